"""Group robots (configuration) and the deliveries the worker sends (to see what failed and
send it again). A robot's URL and secret are credentials: the lists never show them."""

from urllib.parse import urlsplit

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Delivery, Webhook


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label=_("webhook URL"), max_length=500, assume_scheme="https",
                         widget=forms.PasswordInput(render_value=True, attrs={"size": 80}))

    class Meta:
        model = Webhook
        fields = ["org", "name", "provider", "url", "secret", "unit", "campaign", "language",
                  "active"]
        widgets = {"secret": forms.PasswordInput(render_value=True)}

    def clean(self):
        data = super().clean()
        unit, campaign, org = data.get("unit"), data.get("campaign"), data.get("org")
        if org and unit and unit.org_id != org.pk:
            self.add_error("unit", _("The unit is of another organisation."))
        if org and campaign and campaign.org_id != org.pk:
            self.add_error("campaign", _("The campaign is of another organisation."))
        return data


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "provider", "host", "unit", "campaign", "language", "active"]
    list_filter = ["provider", "active", "org"]

    @admin.display(description=_("host"))
    def host(self, obj):
        return urlsplit(obj.url).hostname or "—"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "webhook", "member", "subject", "state",
                    "attempts", "next_try", "last_error"]
    list_filter = ["state", "channel"]
    fields = [*list_display, "sent_at", "key"]
    readonly_fields = fields
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Send again (failed, or left sending by a stopped worker)"))
    def send_again(self, request, queryset):
        from django.utils import timezone

        n = queryset.exclude(state=Delivery.State.SENT).update(
            state=Delivery.State.PENDING, next_try=timezone.now())
        self.message_user(request, _("%(n)s will be sent by the worker.") % {"n": n})
