"""Errors the domain raises. Each carries a message a person can read, and a machine code."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "refused"
    status = 409  # HTTP, for the API and the pages alike: refused in this state

    def __init__(self, message, **params):
        self.params = params
        self.message = message
        super().__init__(str(message) % params if params else str(message))

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


class Refused(DomainError):
    """The action is not allowed: wrong state, wrong role, or bad input. Nothing was written."""


class Forbidden(Refused):
    code = "forbidden"
    status = 403


class InvalidInput(Refused):
    code = "invalid"
    status = 422


class CampaignEnded(Refused):
    """An opinion dated after its campaign ended: a 409 on every path (the campaign's state,
    not the input, refuses it), a row's reason in an import."""

    def __init__(self, campaign) -> None:
        super().__init__(_("Campaign “%(c)s” has ended."), c=campaign.name)


class NotAMember(Forbidden):
    """Someone of another organisation acting in this one, e.g. a named opinion's author: a
    403 on every path (who acts, not what they sent)."""

    def __init__(self, message=None, **params) -> None:
        super().__init__(message or _("The author is not a member of this organisation."),
                         **params)


class Conflict(DomainError):
    """Somebody else changed the same thing first. Nothing was written; reload and retry."""

    code = "conflict"

    def __init__(self, message=None, **params):
        message = message or _("Someone else changed this problem first. Reload it.")
        super().__init__(message, **params)


class NotFound(DomainError):
    code = "not_found"
    status = 404
