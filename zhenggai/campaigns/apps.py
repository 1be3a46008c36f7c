from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "zhenggai.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
