"""A member's own language choice wins over the browser's."""

from django.utils import translation

from zhenggai.campaigns.access import member_of


class MemberLanguageMiddleware:
    """After LocaleMiddleware and authentication: a member who chose a language gets it on
    every page, whatever browser they sit at (a shared kiosk, a borrowed phone)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            member = member_of(user)
            if member is not None and member.language:
                translation.activate(member.language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
