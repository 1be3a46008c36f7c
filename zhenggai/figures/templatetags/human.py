"""`{% load human %}`: numbers as people say them (zhenggai/human.py), for every page.

    {{ share|percent }}          0.1007 → 10.1%
    {{ diff|signed_percent }}    0.052 → +5.2%
    {{ probability|chance }}     0.051 → 5%
    {{ minutes|minutes }}        470 → 7 h 50 min / 7小时50分
    {{ tons|tonnes }}            1410000 → 1,410,000 t / 141万吨   ({{ x|tonnes:1 }}: 87.3 t)
    {{ count|number }}           1410000 → 1,410,000               ({{ x|number:1 }})
"""

from django import template

from zhenggai import human

register = template.Library()

register.filter("percent", human.percent)
register.filter("signed_percent", human.signed_percent)
register.filter("chance", human.chance)
register.filter("minutes", human.minutes)
register.filter("tonnes", human.tonnes)
register.filter("number", human.number)
