from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "zhenggai.org"
    label = "org"
    verbose_name = "Organisation"
