"""A member's language: chosen once, kept on the member, used on every device."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from zhenggai.campaigns.access import member_of
from zhenggai.org.models import Member


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    lang = request.POST.get("language", "")
    member = member_of(request.user)
    if member is not None and lang in dict(Member._meta.get_field("language").choices):
        Member.objects.filter(pk=member.pk).update(language=lang)
    return django_set_language(request)
