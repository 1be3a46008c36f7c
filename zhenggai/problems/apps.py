from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    name = "zhenggai.problems"
    label = "problems"
    verbose_name = "Problems"
