"""Fair leaderboards between furnaces, shifts and crews (M15).

Raw tons favour the big furnaces. Each figure here puts them on one footing, and the page
shows how it is computed (NOTES).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, FloatField, Sum
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import InvalidInput

from .models import GradeNorm, Heat

BY = ("furnace", "shift", "crew")
FIGURES = ("t_per_h", "t_per_m2_day", "vs_norm")
# What the pages call each figure: its key is for the API and the URL only.
LABELS = {
    "t_per_h": _("good tons per hour"),
    "t_per_m2_day": _("tons per m² of hearth per day"),
    "vs_norm": _("faster than the furnace's own norm"),
}
NOTES = {
    "t_per_h": _("good tons ÷ hours from charging to tap, over all verified heats"),
    "t_per_m2_day": _("good tons ÷ (hearth area in m² × days of furnace time): the classic "
                      "open-hearth productivity index; for a furnace the days are the days "
                      "of the period, for a shift or crew the time of its own heats"),
    "vs_norm": _("how much faster than the furnace's own norm for the grade, on average: "
                 "norm time ÷ heat time − 1; an old furnace competes against itself"),
}


def leaderboard(org_id: int, start: dt.date, end: dt.date, by: str = "furnace",
                rank: str = "vs_norm") -> list[dict]:
    if by not in BY:
        raise InvalidInput(_("Split by furnace, shift or crew."))
    if rank not in FIGURES:
        raise InvalidInput(_("Rank by good tons per hour, tons per m² of hearth per day, or "
                             "speed against the furnace's own norm."))
    if end < start:
        raise InvalidInput(_("The period ends before it starts."))
    days = (end - start).days + 1
    key = {"furnace": "furnace__number", "shift": "shift", "crew": "crew"}[by]
    heats = Heat.objects.filter(org_id=org_id, status=Heat.Status.VERIFIED,
                                day__gte=start, day__lte=end)
    rows = (heats.values(key, "furnace_id", "grade", "furnace__hearth_m2")
            .annotate(n=Count("id"), tons=Sum("good_tons"), minutes=Sum("heat_min"),
                      inv=Sum(1.0 / Cast(F("heat_min"), FloatField())))
            .order_by())
    rows = list(rows)
    norms = {(f, g): m for f, g, m in GradeNorm.objects.filter(
        furnace__org_id=org_id).values_list("furnace_id", "grade", "minutes")}
    groups: dict = {}
    furnaces_of: dict = {}
    for r in rows:
        g = groups.setdefault(r[key], {"key": r[key], "heats": 0, "tons": 0.0, "minutes": 0,
                                       "m2_days": 0.0, "norm_sum": 0.0, "norm_n": 0})
        g["heats"] += r["n"]
        g["tons"] += r["tons"]
        g["minutes"] += r["minutes"]
        g["m2_days"] += r["furnace__hearth_m2"] * r["minutes"] / 1440
        furnaces_of.setdefault(r[key], {})[r["furnace_id"]] = r["furnace__hearth_m2"]
        norm = norms.get((r["furnace_id"], r["grade"]))
        if norm:  # Σ (norm / h − 1) over the heats of this furnace and grade
            g["norm_sum"] += norm * r["inv"] - r["n"]
            g["norm_n"] += r["n"]
    out = []
    for k, g in groups.items():
        if by == "furnace":
            m2_days = sum(furnaces_of[k].values()) * days
        else:
            m2_days = g["m2_days"]
        out.append({
            "key": k, "heats": g["heats"], "good_tons": round(g["tons"], 1),
            "t_per_h": round(g["tons"] / (g["minutes"] / 60), 3) if g["minutes"] else None,
            "t_per_m2_day": round(g["tons"] / m2_days, 3) if m2_days else None,
            "vs_norm": round(g["norm_sum"] / g["norm_n"], 4) if g["norm_n"] else None,
        })
    out.sort(key=lambda r: (r[rank] is None, -(r[rank] or 0), str(r["key"])))
    for i, r in enumerate(out, 1):
        r["rank"] = i
    return out
