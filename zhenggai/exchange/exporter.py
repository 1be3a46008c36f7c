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
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("整改台账" if not english else "Ledger")
        for row in rows:
            ws.append([xlsx_cell(ws, v) for v in row])
            n += 1
        wb.save(path)
    else:
        raise InvalidInput(_("Export to an .xlsx or a .csv file."))
    return n - 1


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
