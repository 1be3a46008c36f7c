from django.apps import AppConfig


class FiguresConfig(AppConfig):
    name = "zhenggai.figures"
    label = "figures"
    verbose_name = "Figures"
