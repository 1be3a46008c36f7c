from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "zhenggai.notifications"
    label = "notifications"
