"""Loading an events export (FILE.jsonl with FILE.org.json beside it) into an empty
instance, through the history loader: the same lifecycle checks and the same figures."""

from __future__ import annotations

import datetime as dt
import json
from itertools import groupby
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from zhenggai.campaigns.models import Campaign
from zhenggai.errors import InvalidInput
from zhenggai.org.models import Category, Member, Organisation, Unit
from zhenggai.problems.bulk import BulkEvent, BulkLoader, BulkOpinion
from zhenggai.problems.registry import ADDS_OPINIONS

from .exporter import org_file


def import_events(path) -> dict:
    path = Path(path)
    side = org_file(path)
    if not path.exists() or not side.exists():
        raise InvalidInput(_("Need both %(a)s and %(b)s."), a=path.name, b=side.name)
    snap = json.loads(side.read_text(encoding="utf-8"))
    if Organisation.objects.filter(pk=snap["org"]["id"]).exists():
        raise InvalidInput(_("Organisation %(id)s exists already: import into an empty "
                             "instance."), id=snap["org"]["id"])
    with transaction.atomic():
        org = Organisation.objects.create(**snap["org"])
        for u in snap["units"]:
            unit = Unit(org=org, **u)
            unit.save()
        Category.objects.bulk_create([Category(org=org, **c) for c in snap["categories"]])
        for c in snap["campaigns"]:
            Campaign.objects.create(org=org, **{
                k: dt.date.fromisoformat(v) if k in ("airing_from", "rectification_from",
                                                     "review_from", "ends_on") and v else v
                for k, v in c.items()})
        Member.objects.bulk_create([Member(org=org, **m) for m in snap["members"]])
    loader = BulkLoader(org.pk)
    loader.opinions(BulkOpinion(
        id=o["id"], campaign=o["campaign_id"], text=o["text"], channel=o["channel"],
        day=dt.date.fromisoformat(o["received_on"]), anonymous=o["anonymous"],
        author=o["author_id"], unit=o["unit_id"], category=o["category_id"])
        for o in snap["opinions"])
    problems = events = 0
    with path.open(encoding="utf-8") as fh:
        lines = (json.loads(line) for line in fh if line.strip())
        for _pid, group in groupby(lines, key=lambda e: e["problem"]):
            history = []
            for e in group:
                data = dict(e["data"])
                if e["kind"] in ADDS_OPINIONS and "opinions" in data:
                    data["opinion_ids"] = [ref[0] for ref in data.pop("opinions")]
                history.append(BulkEvent(
                    kind=e["kind"], at=dt.datetime.fromisoformat(e["at"]), actor=e["actor"],
                    to_state=e["to_state"], reason=e["reason"], note=e.get("note", ""),
                    data=data))
            loader.problem(history)
            problems += 1
            events += len(history)
    loader.finish()
    return {"org": org.pk, "opinions": len(snap["opinions"]), "problems": problems,
            "events": events}
