from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "zhenggai.exchange"
    label = "exchange"
