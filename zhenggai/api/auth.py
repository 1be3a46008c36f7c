"""Bearer tokens: the member behind a live token becomes request.auth."""

from django.utils import timezone
from ninja.security import HttpBearer

from .models import ApiToken, hash_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        row = (ApiToken.objects.select_related("member")
               .filter(key_hash=hash_token(token), revoked_at__isnull=True).first())
        if row is None:
            return None
        now = timezone.now()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)  # at most once a minute
        return row.member
