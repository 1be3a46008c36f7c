from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "zhenggai.security"
    label = "security"

    def ready(self):
        from . import production  # noqa: F401  (registers the deploy check)
