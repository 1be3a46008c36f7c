"""A first organisation from a members sheet (Excel or CSV): its units, its members, their
sign-in names and their roles in a campaign.

One row per member; headers in Chinese or English, in any order:

    姓名 name            required
    单位 unit            the unit's code (letters, digits, - and _); made if it is new
    单位名称 unit_name   the unit's name, when the unit is new (default: its code)
    上级单位 parent      the code of the unit above, when the unit is new (a unit earlier in
                         the sheet or already there)
    用户名 username      the sign-in name; empty: a member without a login (yet)
    角色 roles           roles in the campaign, separated by commas or 、: worker/职工,
                         clerk/文书, owner/责任人, representative/代表, leader/领导, admin/管理员
    语言 language        zh-hans or en (empty: the browser's)

Running it again changes nothing that is already there: a member is found by sign-in name
(or, without one, by name and unit) and only gains what the sheet adds. The whole sheet goes
in or nothing does; every bad row is reported with its number.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from zhenggai.campaigns.models import Campaign, CampaignRole, Role
from zhenggai.errors import InvalidInput
from zhenggai.exchange.importer import _cells
from zhenggai.org.models import Member, Organisation, Unit

HEADERS = {
    "name": ("姓名", "name"),
    "unit": ("单位", "unit", "单位编码", "unitcode"),
    "unit_name": ("单位名称", "unitname"),
    "parent": ("上级单位", "parent", "parentunit"),
    "username": ("用户名", "username", "login"),
    "roles": ("角色", "roles", "role"),
    "language": ("语言", "language"),
}
ROLE_WORDS = {
    "职工": Role.WORKER, "工人": Role.WORKER, "文书": Role.CLERK, "责任人": Role.OWNER,
    "代表": Role.REPRESENTATIVE, "职工代表": Role.REPRESENTATIVE, "领导": Role.LEADER,
    "管理员": Role.ADMIN, **{r.value: r.value for r in Role},
}
CODE = re.compile(r"^[-a-zA-Z0-9_]+$")


@dataclass
class MembersReport:
    rows: int = 0
    members_new: int = 0
    units_new: int = 0
    roles_new: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (username, first password)


def _columns(header: list) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = str(cell or "").strip().lower().replace(" ", "").replace("_", "")
        for fld, names in HEADERS.items():
            if key in names and fld not in found:
                found[fld] = i
    if "name" not in found:
        raise InvalidInput(_("No column of names: name one “姓名” or “name”."))
    return found


def import_members(path, *, org: Organisation, campaign: Campaign | None = None,
                   dry_run: bool = False) -> MembersReport:
    """Read the sheet at ``path`` into ``org``; roles go to ``campaign``. New sign-in names
    get a random first password, returned once in ``report.logins``."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(_("No file at %(path)s.") % {"path": path})
    if campaign is not None and campaign.org_id != org.pk:
        raise InvalidInput(_("The campaign belongs to another organisation."))
    rows = iter(_cells(path))
    header = next(rows, None)
    if header is None:
        raise InvalidInput(_("The file is empty."))
    cols = _columns(header)
    report = MembersReport()
    with transaction.atomic():
        units = {u.code: u for u in Unit.objects.filter(org=org)}
        User = get_user_model()
        for n, cells in enumerate(rows, start=2):
            def cell(name: str, cells=cells) -> str:
                i = cols.get(name)
                return str(cells[i] or "").strip() if i is not None and i < len(cells) else ""

            if not any(str(c or "").strip() for c in cells):
                continue
            report.rows += 1
            problem = _row(cell, org, campaign, units, User, report)
            if problem:
                report.errors.append((n, problem))
        if report.errors or dry_run:
            transaction.set_rollback(True)
            report.logins = []
    return report


def _row(cell, org, campaign, units, User, report: MembersReport) -> str | None:
    name = cell("name")
    if not name:
        return _("no name")
    roles = [w for w in re.split(r"[,，、;；\s]+", cell("roles")) if w]
    unknown = [w for w in roles if w.lower() not in ROLE_WORDS]
    if unknown:
        return _("unknown role %(role)s") % {"role": unknown[0]}
    if roles and campaign is None:
        return _("roles need a campaign (--campaign)")
    language = cell("language").lower()
    if language and language not in ("zh-hans", "en"):
        return _("language must be zh-hans or en, not %(lang)s") % {"lang": language}
    unit = None
    code = cell("unit")
    if code:
        if not CODE.match(code):
            return _("unit code %(code)s: use letters, digits, - and _") % {"code": code}
        unit = units.get(code)
        if unit is None:
            parent = None
            if cell("parent"):
                parent = units.get(cell("parent"))
                if parent is None:
                    return _("no unit %(code)s above %(unit)s") % {"code": cell("parent"),
                                                                    "unit": code}
            unit = Unit(org=org, code=code, name=cell("unit_name") or code, parent=parent)
            unit.save()
            units[code] = unit
            report.units_new += 1
    username = cell("username")
    if username:
        member = Member.objects.filter(user__username=username).first()
        if member is not None and member.org_id != org.pk:
            return _("the sign-in name %(u)s belongs to another organisation") % {"u": username}
    else:
        member = Member.objects.filter(org=org, name=name, unit=unit, user=None).first()
    if member is None:
        user = None
        if username:
            if User.objects.filter(username=username).exists():
                return _("the sign-in name %(u)s is taken") % {"u": username}
            password = secrets.token_urlsafe(9)
            user = User.objects.create_user(username=username, password=password)
            report.logins.append((username, password))
        member = Member.objects.create(org=org, user=user, unit=unit, name=name,
                                       language=language)
        report.members_new += 1
    for word in roles:
        _row_role, made = CampaignRole.objects.get_or_create(
            campaign=campaign, member=member, role=ROLE_WORDS[word.lower()])
        report.roles_new += made
    return None
