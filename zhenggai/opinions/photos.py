"""An opinion's photos, for the pages that show opinions.

The photos are checked and re-encoded by problems/photos.py (the same rules as a claim's
evidence) and stored by intake.py in the opinion's own table of photos."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass

from django.urls import reverse

from .models import OpinionPhoto


@dataclass(frozen=True)
class Shown:
    src: str
    width: int
    height: int


def attach(opinions, *, inline: bool = False) -> list:
    """Sets `shown_photos` on each opinion (one query for all): a URL each for members, or
    with `inline` the image itself as a data: URL, for the receipt page, whose holder has no
    session to fetch it with (the code travels only in the form)."""
    opinions = list(opinions)
    by: dict[int, list[Shown]] = defaultdict(list)
    if opinions:
        qs = OpinionPhoto.objects.filter(opinion_id__in=[o.pk for o in opinions])
        if not inline:
            qs = qs.defer("data")
        for ph in qs.order_by("opinion_id", "place"):
            src = (f"data:{ph.content_type};base64,{base64.b64encode(ph.data).decode()}"
                   if inline else reverse("web:opinion_photo", args=[ph.pk]))
            by[ph.opinion_id].append(Shown(src, ph.width, ph.height))
    for o in opinions:
        o.shown_photos = by.get(o.pk, [])
    return opinions
