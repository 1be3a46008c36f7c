"""Importing opinions typed in from paper forms, from an XLSX or CSV file.

Columns are found by their header, in Chinese or English. Every row is keyed by the file's
content and its row (or its own number column), stored as the opinion's source_ref, so an
import run twice, or killed half-way and run again, has each row exactly once. Each row is
checked by the intake's rules (opinions/intake.py), like an opinion from any other channel;
bad rows are reported with their row number and reason, and the good rows still go in.
Rows are written in batches by the intake's bulk write (with their figures and index log
rows), each batch in one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from zhenggai.campaigns.models import Campaign
from zhenggai.campaigns.roles import has_role
from zhenggai.errors import DomainError, Forbidden, InvalidInput, Refused
from zhenggai.opinions import slips
from zhenggai.opinions.intake import OpinionRow, Rules, store_many
from zhenggai.opinions.models import Channel, Opinion
from zhenggai.org import clock
from zhenggai.org.models import Category, Member, Unit

# Header → field. Compared after stripping spaces and lower-casing.
HEADERS = {
    "text": ("text", "opinion", "意见", "意见内容", "内容", "意见建议"),
    "anonymous": ("anonymous", "匿名", "是否匿名"),
    "author": ("author", "proposer", "name", "提出人", "姓名", "提议人"),
    "unit": ("unit", "department", "单位", "部门", "所在单位"),
    "category": ("category", "类别", "分类"),
    "date": ("date", "received", "received on", "日期", "收到日期", "提出日期"),
    "ref": ("ref", "no", "no.", "number", "编号", "序号", "表号"),
    # An anonymous paper form's receipt slip (opinions/slips.py).
    "slip": ("slip", "slip no.", "slip number", "回执号", "回执条", "回执条号", "回执条编号"),
}
YES = {"1", "yes", "y", "true", "是", "匿名", "√", "x"}
NO = {"", "0", "no", "n", "false", "否", "实名"}
_YES_OR_NO = YES | NO
_PAPER = Channel.PAPER  # once: an enum member costs a lookup per access


@dataclass
class RowResult:
    row: int
    status: str  # "import", "exists" or "error"
    reason: str = ""
    text: str = ""


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    existing: int = 0
    errors: list[RowResult] = field(default_factory=list)
    results: list[RowResult] = field(default_factory=list)  # every row, for a dry run

    @property
    def ok(self) -> bool:
        return not self.errors


class Formula(str):
    """An XLSX cell that holds a formula, not a value."""


def _cells(path: Path) -> Iterator[list]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        # Not data_only: a formula's cached value may be missing (then it read as "empty");
        # a formula is reported as what it is.
        wb = load_workbook(path, read_only=True)
        for row in wb.worksheets[0].iter_rows():
            yield [Formula(c.value) if c.data_type == "f" else c.value for c in row]
        wb.close()
    elif path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            yield from csv.reader(fh)
    else:
        raise InvalidInput(_("Import an .xlsx or a .csv file."))


def _columns(header: list) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        key = str(name or "").strip().lower().replace(" ", "")
        for fld, names in HEADERS.items():
            if key in {n.replace(" ", "") for n in names} and fld not in found:
                found[fld] = i
    if "text" not in found:
        raise InvalidInput(_("No column of opinion text: name one “意见内容” or “text”."))
    return found


def _file_id(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


class _Lookup:
    """Units, categories and authors by code or name, loaded once."""

    def __init__(self, campaign: Campaign) -> None:
        org = campaign.org_id
        self.units: dict[str, int] = {}
        for pk, code, name, name_en in Unit.objects.filter(org_id=org).values_list(
                "pk", "code", "name", "name_en"):
            for k in (code, name, name_en):
                if k:
                    self.units[k.strip().lower()] = pk
        self.cats: dict[str, int] = {}
        for pk, code, name, name_en in Category.objects.filter(org_id=org).values_list(
                "pk", "code", "name", "name_en"):
            for k in (code, name, name_en):
                if k:
                    self.cats[k.strip().lower()] = pk
        self.people: dict[str, list[int]] = {}
        for pk, name, username in Member.objects.filter(org_id=org).values_list(
                "pk", "name", "user__username"):
            for k in {name, username} - {None, ""}:
                self.people.setdefault(k.strip().lower(), []).append(pk)


def _day(value, today: dt.date) -> dt.date:
    if value in (None, ""):
        return today
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(text)  # the usual case, and fast
    except ValueError:
        pass
    for fmt in ("%Y-%m-%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(text)


def _check_row(cells: list, cols: dict, look: _Lookup, rules: Rules, prefix: str, n: int
               ) -> OpinionRow:
    """The opinion a row makes, or the reason it cannot be one: the row's cells are read
    here, the opinion is checked by intake's rules like any other."""

    # Each cell read once (a million rows go through here).
    n_cells = len(cells)
    values = {f: cells[i] for f, i in cols.items() if i < n_cells and cells[i] is not None}
    for f, v in values.items():
        if isinstance(v, Formula):
            raise InvalidInput(_("The “%(col)s” cell holds a formula (%(f)s), not a value: type "
                                 "the value itself."), col=f, f=v[:40])

    def get(f):
        return values.get(f, "")

    flag = str(get("anonymous")).strip().lower()
    if flag not in _YES_OR_NO:
        raise InvalidInput(_("“%(v)s” is neither yes nor no for anonymous."), v=flag)
    author_name = str(get("author")).strip()
    anonymous = flag in YES or not author_name
    author = None
    if not anonymous:
        found = look.people.get(author_name.lower(), [])
        if len(found) != 1:
            raise InvalidInput(_("No single member is called “%(n)s”.") if not found else
                               _("Several members are called “%(n)s”; use their username."),
                               n=author_name)
        author = found[0]
    unit = category = None
    unit_name, category_name = str(get("unit")).strip(), str(get("category")).strip()
    if unit_name:
        unit = look.units.get(unit_name.lower())
        if unit is None:
            raise InvalidInput(_("Unknown unit “%(u)s”."), u=get("unit"))
    if category_name:
        category = look.cats.get(category_name.lower())
        if category is None:
            raise InvalidInput(_("Unknown category “%(c)s”."), c=get("category"))
    try:
        day = _day(get("date"), rules.today)
    except ValueError:
        raise InvalidInput(_("“%(d)s” is not a date like 1957-07-01."), d=get("date")) from None
    ref = str(get("ref")).strip()
    return rules.check(text=str(get("text")), channel=_PAPER, anonymous=anonymous,
                       author=author, unit=unit, category=category, day=day,
                       source_ref=prefix + (f"ref:{ref}" if ref else f"row:{n}"))


def _slip_of(cells: list, cols: dict) -> str:
    i = cols.get("slip")
    if i is None or i >= len(cells) or cells[i] is None:
        return ""
    return str(cells[i]).strip()


def import_opinions(path, *, campaign: Campaign, actor: Member, dry_run: bool = False,
                    progress=None, batch: int = 5000, stop_after: int | None = None
                    ) -> ImportReport:
    """Import the opinions of `path` into `campaign` as clerk `actor`.

    `stop_after` stops after that many batches (a test's way of killing it half-way)."""
    if not has_role(actor, campaign, "clerk"):
        raise Forbidden(_("Only a clerk of this campaign may import opinions."))
    path = Path(path)
    if not path.exists():
        raise InvalidInput(_("No file %(p)s."), p=str(path))
    cells = _cells(path)
    try:
        cols = _columns(next(cells))
    except StopIteration:
        raise InvalidInput(_("The file is empty.")) from None
    prefix = f"import:{_file_id(path)}:"
    done = set(Opinion.objects.filter(org_id=campaign.org_id, source_ref__startswith=prefix)
               .values_list("source_ref", flat=True))
    look = _Lookup(campaign)
    rules = Rules(campaign, today=clock.today(campaign.org_id))
    report = ImportReport()
    pending: list[OpinionRow] = []
    batches = 0
    seen: set[str] = set()

    def flush() -> None:
        nonlocal batches
        if not pending or dry_run:
            pending.clear()
            return
        # The opinions, their figures and their index log rows, one transaction per batch.
        store_many(pending)
        report.imported += len(pending)
        pending.clear()
        batches += 1
        if progress:
            progress(report)

    for n, cells_of_row in enumerate(cells, start=2):  # row 1 is the header
        if not any(c not in (None, "") for c in cells_of_row):
            continue
        report.rows += 1
        try:
            row = _check_row(cells_of_row, cols, look, rules, prefix, n)
        except Refused as e:
            result = RowResult(n, "error", str(e))
            report.errors.append(result)
            if dry_run:
                report.results.append(result)
            continue
        slip = _slip_of(cells_of_row, cols)
        source = row.source_ref
        if source in done or source in seen:
            report.existing += 1
            if dry_run:
                report.results.append(RowResult(n, "exists", "", row.text[:60]))
            continue
        seen.add(source)
        if slip:
            # One form, one slip: checked (and, for real, used) on its own, in its own
            # transaction, so that a used or unknown slip refuses this row only.
            try:
                if row.author_id is not None:
                    raise InvalidInput(_("A form with a receipt slip is anonymous: leave its "
                                         "proposer empty."))
                if dry_run:
                    slips.check(campaign, slip)
                else:
                    slips.submit_paper(campaign, actor=actor, slip=slip, text=row.text,
                                       unit=row.unit_id, category=row.category_id,
                                       received_on=row.received_on, source_ref=source)
                    report.imported += 1
            except DomainError as e:  # a refusal, or an unknown slip (NotFound)
                result = RowResult(n, "error", str(e))
                report.errors.append(result)
                if dry_run:
                    report.results.append(result)
                continue
            if dry_run:
                report.results.append(RowResult(n, "import", "", row.text[:60]))
            continue
        if dry_run:
            report.results.append(RowResult(n, "import", "", row.text[:60]))
            continue
        pending.append(row)
        if len(pending) >= batch:
            flush()
            if stop_after is not None and batches >= stop_after:
                return report
    flush()
    return report
