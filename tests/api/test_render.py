"""The API's JSON encoder (orjson) writes every value as the standard one did: dates and
times in Django's ISO form, lazy translations as their text, Decimals, ids as strings."""

import datetime as dt
import json
import uuid
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext_lazy
from ninja.responses import NinjaJSONEncoder

from zhenggai.api.api import JSONRenderer


def test_the_api_encoder_writes_what_the_standard_encoder_wrote():
    data = {
        "at": dt.datetime(2026, 12, 1, 13, 5, 7, 123456, tzinfo=dt.UTC),
        "at_plus8": dt.datetime(1958, 1, 5, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "day": dt.date(1958, 1, 5), "time": dt.time(9, 30),
        "words": gettext_lazy("A valid API token is needed."), "share": 0.1007,
        "mass": Decimal("12.50"), "id": uuid.UUID(int=7), "text": "炉前太热（丁班）",
        "nested": [{"n": 1, "none": None, "yes": True}], 3: "an int key",
    }
    with translation.override("zh-hans"):
        ours = JSONRenderer().render(None, data, response_status=200)
        theirs = json.dumps(data, cls=NinjaJSONEncoder)
    assert json.loads(ours) == json.loads(theirs)
    assert json.loads(ours)["at"] == "2026-12-01T13:05:07.123Z"
    assert "炉前太热".encode() in ours  # UTF-8, not \\u escapes
