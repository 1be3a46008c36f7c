"""Signing in (throttled), and a member's language: chosen once, kept on the member, used
on every device."""

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from zhenggai.campaigns.access import member_of
from zhenggai.errors import DomainError
from zhenggai.org.models import Member
from zhenggai.security import slots, throttle
from zhenggai.security.address import client_address

from ..pages import work_url


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    lang = request.POST.get("language", "")
    member = member_of(request.user)
    if member is not None and lang in dict(Member._meta.get_field("language").choices):
        Member.objects.filter(pk=member.pk).update(language=lang)
    return django_set_language(request)


class LoginView(auth_views.LoginView):
    """Django's log-in, throttled: failures per account and per address (security/throttle),
    and the password hash takes an argon2 slot like a receipt's."""

    template_name = "web/login.html"

    def get_default_redirect_url(self):
        """Without a safe `next`, the member's work page (campaigns/roles.py), not the
        plant's figures."""
        return work_url(member_of(self.request.user)) or super().get_default_redirect_url()

    def post(self, request, *args, **kwargs):
        username = (request.POST.get("username") or "").strip().casefold()
        keys = [("login_account", username), ("login_address", client_address(request))]
        form = self.get_form()
        try:
            throttle.check(*keys)
            with slots.slot():
                valid = form.is_valid()
        except DomainError as e:
            response = self.render_to_response(self.get_context_data(form=form, refused=str(e)))
            response.status_code = e.status
            response["Retry-After"] = str(getattr(e, "retry_after", 60))
            return response
        if valid:
            return self.form_valid(form)
        throttle.failed(*keys)
        return self.form_invalid(form)
