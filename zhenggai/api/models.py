"""Per-member API tokens, stored only as a hash, and the results of idempotent writes."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.opinions.models import KeyField, random_id
from zhenggai.org.models import Member

PREFIX_LEN = 8


def hash_token(token: str) -> str:
    # A 256-bit random token needs no slow hash: nobody can guess one to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=PREFIX_LEN, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @classmethod
    def issue(cls, member: Member, name: str = "") -> tuple["ApiToken", str]:
        """A new token. The plain token is returned once and never stored."""
        token = "zg_" + secrets.token_urlsafe(32)
        while token[3] == "-":  # a prefix must not read as an option: `zhenggai token revoke`
            token = "zg_" + secrets.token_urlsafe(32)
        row = cls.objects.create(member=member, name=name or "api", prefix=token[3:3 + PREFIX_LEN],
                                 key_hash=hash_token(token))
        return row, token

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class IdempotencyKey(models.Model):
    """The first response to a write sent with an Idempotency-Key, replayed for repeats.

    For an anonymous request (see idempotency.py) the scope is "anonymous", the key and the
    request hash are keyed hashes, and the body has no receipt. Kept to the day, purged after
    a short window; the id is random so that the rows keep no order."""

    id = KeyField(primary_key=True, default=random_id, editable=False)
    scope = models.CharField(max_length=64)  # the caller: their token's hash, or "anonymous"
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)  # method, path and body
    # 0 while a run goes on, 1 once its write committed (idempotency.seal), then the answer's
    status = models.PositiveSmallIntegerField()
    body = models.BinaryField()
    content_type = models.CharField(max_length=100)
    created_on = models.DateField()
    # The running request's random token (fences a dead run's late write); "" once answered.
    owner = models.CharField(max_length=32, blank=True, default="")
    # How long twins have waited on the running request: a duration, never a clock time.
    waited_ms = models.PositiveIntegerField(default=0)
    # What the write made (an opinion's id), to answer again if the answer was lost.
    ref = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key")]
