from django.apps import AppConfig


class ProductionConfig(AppConfig):
    name = "zhenggai.production"
    label = "production"
    verbose_name = "Production"
