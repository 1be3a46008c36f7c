from django.contrib import admin

from .models import Campaign, CampaignRole


class CampaignRoleInline(admin.TabularInline):
    model = CampaignRole
    raw_id_fields = ["member"]
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "org", "airing_from", "review_from", "ends_on"]
    inlines = [CampaignRoleInline]
