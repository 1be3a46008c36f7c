from django.apps import AppConfig


class OpinionsConfig(AppConfig):
    name = "zhenggai.opinions"
    label = "opinions"
    verbose_name = "Opinions"
