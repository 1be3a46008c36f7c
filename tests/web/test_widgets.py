"""QuickSelect writes the same <select> as Django's own widget, without a template per
option."""

import pytest
from django import forms
from django.test.html import parse_html

from zhenggai.org.models import Unit
from zhenggai.web.widgets import QuickSelect


class Both(forms.Form):
    quick = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False,
                                   widget=QuickSelect)
    plain = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False)
    quick_req = forms.ChoiceField(choices=[("a", "<A & B>"), ("b", "B")], widget=QuickSelect)
    plain_req = forms.ChoiceField(choices=[("a", "<A & B>"), ("b", "B")])

    def __init__(self, *a, org, **kw):
        super().__init__(*a, **kw)
        for name in ("quick", "plain"):
            self.fields[name].queryset = Unit.objects.filter(org=org).order_by("name")


def _select(form, name, other):
    """The field's HTML with its name and id made the other field's, parsed."""
    html = str(form[name]).replace(f'"{name}"', f'"{other}"').replace(
        f'"id_{name}"', f'"id_{other}"')
    return parse_html(html)


@pytest.mark.django_db
def test_the_same_html_as_django_select(story):
    org = story.org
    Unit.objects.create(org=org, code="x1", name='车间 "一" <&>')
    units = list(Unit.objects.filter(org=org).order_by("name"))
    assert len(units) >= 2
    for data in (None, {"quick": units[1].pk, "plain": units[1].pk,
                        "quick_req": "b", "plain_req": "b"}):
        form = Both(data, org=org)
        if data:
            form.is_valid()
        assert _select(form, "quick", "plain") == parse_html(str(form["plain"]))
        assert _select(form, "quick_req", "plain_req") == parse_html(str(form["plain_req"]))
    assert "selected" in str(Both({"quick": units[1].pk}, org=org)["quick"])
    assert "&lt;&amp;&gt;" in str(Both(None, org=org)["quick"])
