"""Exports: the rectification ledger (整改台账) as XLSX or CSV, and the event log as JSON
lines that anyone can recompute the figures from.

The events file has one event per line with at least problem, at (ISO 8601), kind,
from_state, to_state (domain.md's state names) and reason. Beside it, FILE.org.json holds
what the events refer to (units, categories, campaigns, members by id and name, and every
opinion without its author's name when anonymous), so that `zhenggai import events` can
rebuild the same figures in an empty instance. Receipt hashes are never exported.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from django.db.models import Prefetch
from django.utils import translation
from django.utils.translation import gettext as _

from zhenggai.campaigns.models import Campaign
from zhenggai.errors import InvalidInput
from zhenggai.figures.queries import ANON_MIN
from zhenggai.opinions.models import Opinion
from zhenggai.org.models import Category, Member, Organisation, Unit
from zhenggai.problems import lifecycle
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import Event, Problem
from zhenggai.problems.registry import LEDGER_RESULTS

LEDGER_COLUMNS = [
    ("序号", "No."), ("问题描述", "Problem"), ("意见来源/条数", "Opinions (source/count)"),
    ("整改措施", "Measures"), ("责任单位", "Responsible unit"), ("责任人", "Responsible person"),
    ("整改时限", "Deadline"), ("整改进展", "Progress"), ("核查人", "Verified by"),
    ("核查结果", "Verification result"), ("销号日期", "Closed on"),
]


def closed_on(p: Problem):
    """销号日期: the day a closed problem was closed (the consolidation check that closed it);
    a problem that is not closed has none, verified or not. Reads `p.checks` (ledger_rows)."""
    if p.state != lifecycle.CLOSED:
        return None
    closing = [e for e in p.checks
               if e.kind == Kind.CHECK_HOLDS and e.from_state != lifecycle.CLOSED]
    return closing[-1].day if closing else None


# Corrective and preventive action (ISO 9001 §10.2): after 整改措施, when a campaign of the
# ledger records them (Campaign.uses_capa).
CAPA_COLUMNS = [("原因分析", "Root cause"), ("预防措施", "Preventive measure")]
CAPA_AFTER = 4  # the columns before them: 序号 … 整改措施


def uses_capa(org: Organisation, campaigns=None) -> bool:
    qs = Campaign.objects.filter(org=org, uses_capa=True)
    if campaigns is not None:
        qs = qs.filter(pk__in=[getattr(c, "pk", c) for c in campaigns])
    return qs.exists()


def ledger_rows(org: Organisation, english: bool = False, campaigns=None):
    """The ledger's header, then one row per problem (of `campaigns`, if given); with the
    root cause and preventive measure when a campaign of it records them."""
    capa = uses_capa(org, campaigns)
    columns = LEDGER_COLUMNS[:CAPA_AFTER] + (CAPA_COLUMNS if capa else []) \
        + LEDGER_COLUMNS[CAPA_AFTER:]
    yield [en if english else zh for zh, en in columns]
    checks = Event.objects.filter(kind__in=list(LEDGER_RESULTS)).select_related("actor") \
        .order_by("seq")
    problems = (Problem.objects.filter(org=org).select_related("unit", "owner")
                .prefetch_related(Prefetch("events", queryset=checks, to_attr="checks"))
                .order_by("created_on", "pk"))
    if campaigns is not None:
        problems = problems.filter(campaign__in=list(campaigns))
    with translation.override("en" if english else "zh-hans"):
        for n, p in enumerate(problems.iterator(chunk_size=2000), start=1):
            last = p.checks[-1] if p.checks else None
            # Fewer than five anonymous opinions are not counted apart (domain.md), and the
            # named ones are not counted apart either, so nothing subtracts to them.
            k = p.n_anonymous if p.n_anonymous >= ANON_MIN else 0
            anon = (f", {k} anonymous" if english else f"，匿名 {k}") if k else ""
            closed = closed_on(p)
            yield [
                n, p.summary,
                (f"{p.n_opinions} opinions{anon}" if english else f"{p.n_opinions} 条{anon}"),
                p.measures, *((p.root_cause, p.preventive) if capa else ()),
                p.unit.label() if p.unit else "", p.owner.name if p.owner else "",
                p.deadline.isoformat() if p.deadline else "", str(lifecycle.STATE_LABELS[p.state]),
                last.actor.name if last and last.actor else "",
                str(LEDGER_RESULTS[last.kind]) if last else "",  # 核查结果
                closed.isoformat() if closed else "",
            ]


def export_ledger(org: Organisation, path, english: bool = False, campaigns=None) -> int:
    """Write the ledger; `campaigns` limits it to those campaigns' problems (a member's)."""
    path = Path(path)
    rows = ledger_rows(org, english, campaigns)
    n = 0
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            for row in rows:
                w.writerow([csv_cell(v) for v in row])
                n += 1
    elif path.suffix.lower() == ".xlsx":
        n = write_xlsx(path, rows, ledger_title(org, english, campaigns), english)
    else:
        raise InvalidInput(_("Export to an .xlsx or a .csv file."))
    return n - 1


def ledger_title(org: Organisation, english: bool = False, campaigns=None) -> str:
    """The sheet's title: the organisation, the campaigns and the day it was exported (the
    organisation's today): "第一炼钢厂 · 1957 整风整改 · 整改台账 · 1958-01-28 导出"."""
    from zhenggai.org import clock

    if campaigns is None:
        campaigns = Campaign.objects.filter(org=org).order_by("pk")
    names = "、".join(c.name for c in campaigns) if not english else \
        ", ".join(getattr(c, "name_en", "") or c.name for c in campaigns)
    day = clock.today(org.pk).isoformat()
    org_name = (getattr(org, "name_en", "") or org.name) if english else org.name
    if english:
        return f"{org_name} · {names or 'all campaigns'} · Rectification ledger · as of {day}"
    return f"{org_name} · {names or '全部运动'} · 整改台账 · {day} 导出"


SAMPLE_ROWS = 500  # the rows the column widths are fitted to (the rest stream after them)
MIN_WIDTH, MAX_WIDTH = 6, 48  # in characters


def _width(value) -> float:
    """A cell's width in characters: a Chinese character is two."""
    text = "" if value is None else str(value)
    longest = max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in line)
                   for line in text.splitlines() or [""]), default=0)
    return longest + 1


def write_xlsx(path, rows, title: str, english: bool = False) -> int:
    """The ledger as a sheet ready to print: the title (organisation, campaigns, day) in the
    first row, the header row frozen under it and repeated on every printed page, columns
    fitted to their contents (the first SAMPLE_ROWS rows), text wrapped, A4 landscape, one
    page wide. Streams: a large ledger is never held whole. Returns the rows written,
    header included."""
    from itertools import chain, islice

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    rows = iter(rows)
    header = next(rows)
    sample = list(islice(rows, SAMPLE_ROWS))
    wb = Workbook(write_only=True)
    wb.properties.title = title
    ws = wb.create_sheet("整改台账" if not english else "Ledger")
    for i in range(len(header)):
        widest = max([_width(header[i])] + [_width(r[i]) for r in sample if i < len(r)])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(max(widest, MIN_WIDTH),
                                                                   MAX_WIDTH)
    ws.freeze_panes = "A3"  # the title and the header stay in view
    ws.print_title_rows = "1:2"  # … and are printed on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "&P / &N"
    thin = Side(style="thin", color="999999")
    wrap = Alignment(wrap_text=True, vertical="top")

    def styled(value, **style):
        cell = xlsx_cell(ws, value) if isinstance(value, str) else WriteOnlyCell(ws, value=value)
        for k, v in style.items():
            setattr(cell, k, v)
        return cell

    ws.append([styled(title, font=Font(bold=True, size=14))])
    ws.append([styled(v, font=Font(bold=True), alignment=wrap,
                      fill=PatternFill("solid", fgColor="F2DCDB"),
                      border=Border(bottom=thin)) for v in header])
    n = 1
    for row in chain(sample, rows):
        ws.append([styled(v, alignment=wrap) for v in row])
        n += 1
    wb.save(path)
    return n


# A spreadsheet reads a cell that starts with one of these as a formula (formula injection:
# a summary of `=HYPERLINK(…)` or `=cmd|' /C calc'!A0`).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell a spreadsheet shows as the text it is: a leading ' before a formula start."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xlsx_cell(ws, value):
    """Text as a text cell, never a formula, whatever it starts with; other values as they
    are."""
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell


def _event_line(e: Event) -> dict:
    data = dict(e.data)
    return {"problem": e.problem_id, "seq": e.seq, "at": e.at.isoformat(),
            "day": e.day.isoformat(), "kind": e.kind, "from_state": e.from_state or None,
            "to_state": e.to_state, "reason": e.reason, "actor": e.actor_id,
            "note": e.note, "data": data}


def export_events(org: Organisation, path) -> int:
    """Every event, one JSON object a line, and FILE.org.json beside it."""
    path = Path(path)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        events = (Event.objects.filter(problem__org=org).order_by("problem_id", "seq")
                  .iterator(chunk_size=5000))
        for e in events:
            fh.write(json.dumps(_event_line(e), ensure_ascii=False) + "\n")
            n += 1
    org_file(path).write_text(json.dumps(snapshot(org), ensure_ascii=False), encoding="utf-8")
    return n


def org_file(path: Path) -> Path:
    return path.with_name(path.stem + ".org.json")


def snapshot(org: Organisation) -> dict:
    return {
        "org": {"id": org.pk, "name": org.name, "name_en": org.name_en},
        "units": list(Unit.objects.filter(org=org).order_by("path").values(
            "id", "code", "name", "name_en", "parent_id")),
        "categories": list(Category.objects.filter(org=org).values(
            "id", "code", "name", "name_en")),
        "campaigns": [
            {**c, **{k: str(c[k]) if c[k] else None for k in
                     ("airing_from", "rectification_from", "review_from", "ends_on")}}
            for c in Campaign.objects.filter(org=org).order_by("pk").values(
                "id", "name", "name_en", "airing_from", "rectification_from", "review_from",
                "ends_on", "previous_id", "consolidation_days")],
        "members": list(Member.objects.filter(org=org).values("id", "name", "unit_id")),
        "opinions": [
            {**o, "received_on": str(o["received_on"])}
            for o in Opinion.objects.filter(org=org).order_by("pk").values(
                "id", "campaign_id", "text", "channel", "received_on", "anonymous",
                "author_id", "unit_id", "category_id", "problem_id")],
    }
