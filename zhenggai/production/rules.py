"""Who may do what with a heat, declared once: the actions on a heat, the statuses each may
be taken from, the plant roles it needs, and the rule about who the actor is (the recorder of
a heat never verifies it). The actions (actions.py) call `check_actor` before they write and
`check_status` on the locked row; pages ask `offered` what to show."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.roles import has_production_role, production_roles_of
from zhenggai.errors import Forbidden, Refused

from .models import Heat, ProductionRole

RECORDER, VERIFIER = ProductionRole.Role.RECORDER, ProductionRole.Role.VERIFIER
RECORDED, VERIFIED = Heat.Status.RECORDED, Heat.Status.VERIFIED


class Kind(enum.StrEnum):
    RECORD = "record"
    VERIFY = "verify"
    CORRECT = "correct"


@dataclass(frozen=True)
class HeatAction:
    kind: Kind
    statuses: frozenset[str]  # the heat's statuses it may be taken from; none: a new heat
    roles: frozenset[str]  # one of these plant roles
    forbidden: object  # why it is refused to whoever holds none of them
    already: object = None  # why it is refused on a heat in another status


ACTIONS: dict[Kind, HeatAction] = {a.kind: a for a in [
    HeatAction(Kind.RECORD, frozenset(), frozenset({RECORDER}),
               _("Only a recorder of this plant may record heats.")),
    HeatAction(Kind.VERIFY, frozenset({RECORDED}), frozenset({VERIFIER}),
               _("Only a verifier of this plant may verify heats."),
               already=_("This heat is verified already.")),
    HeatAction(Kind.CORRECT, frozenset({RECORDED, VERIFIED}), frozenset({VERIFIER, RECORDER}),
               _("Only a recorder or verifier of this plant may correct heats.")),
]}


def check_actor(kind: Kind, actor, org_id: int, *, recorder_id: int | None = None,
                held: set[str] | None = None) -> None:
    """Refuse (Forbidden) `actor` the action `kind` in organisation `org_id`'s plant.
    `recorder_id`: who recorded the heat (a verifier must be someone else)."""
    action = ACTIONS[kind]
    if not has_production_role(actor, org_id, *action.roles, held=held):
        raise Forbidden(action.forbidden)
    if kind == Kind.VERIFY and recorder_id is not None and actor.pk == recorder_id:
        raise Forbidden(_("The recorder of a heat cannot verify it; a second person must."))


def check_status(kind: Kind, heat: Heat) -> None:
    """Refuse (Refused) the action on a heat whose status it cannot be taken from."""
    action = ACTIONS[kind]
    if heat.status not in action.statuses:
        raise Refused(action.already)


def offered(actor, org_id: int, heat: Heat | None = None) -> set[Kind]:
    """The actions `actor` may take now: on `heat`, or without one, on a new heat. What a
    page offers; the action checks again when taken."""
    held = production_roles_of(actor)
    out = set()
    for kind, action in ACTIONS.items():
        if bool(action.statuses) != (heat is not None):
            continue
        try:
            check_actor(kind, actor, org_id, held=held,
                        recorder_id=heat.recorder_id if heat is not None else None)
            if heat is not None:
                check_status(kind, heat)
        except Refused:  # Forbidden is a Refused too
            continue
        out.add(kind)
    return out
