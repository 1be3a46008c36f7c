"""Throttle counters, shared by every server process through the database."""

from django.db import models


class Attempt(models.Model):
    """Failed attempts under one key in one time window.

    The key is a keyed hash (never an address, a receipt or a user name in clear), and rows
    older than their window are deleted as new ones come in: nothing here outlives a few
    minutes or names anybody.
    """

    key = models.CharField(max_length=64)
    since = models.BigIntegerField(db_index=True)  # the window's start, seconds since 1970
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "since"],
                                               name="security_attempt_key_since")]
