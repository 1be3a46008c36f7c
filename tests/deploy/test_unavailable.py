"""A database that cannot be reached is a 503 with Retry-After (the API's error shape under
/api/v1/), not a 500: clients send the request again, with the same Idempotency-Key."""

from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import RequestFactory

from zhenggai.api.unavailable import server_error


@pytest.mark.django_db
def test_api_answers_503_while_the_database_is_away(client):
    client.raise_request_exception = False
    with mock.patch("zhenggai.campaigns.models.Campaign.by_id",
                    side_effect=OperationalError("server closed the connection")):
        r = client.post("/api/v1/opinions", {"campaign": 1, "text": "太热", "anonymous": True},
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1",
                        HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 503 and r["Retry-After"] == "2"
    assert r.json()["error"]["code"] == "unavailable"
    assert "数据库" in r.json()["error"]["message"]
    # Nothing was remembered under the key: the retry is served.
    with mock.patch("zhenggai.campaigns.models.Campaign.by_id", return_value=None):
        again = client.post("/api/v1/opinions", {"campaign": 1, "text": "太热",
                                                 "anonymous": True},
                            content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    assert again.status_code == 404


def test_a_page_gets_a_plain_503_and_other_failures_stay_500():
    request = RequestFactory().get("/board/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        r = server_error(request)
    assert r.status_code == 503 and r["Retry-After"] == "2"
    try:
        raise ValueError("a bug")
    except ValueError:
        r = server_error(request)
    assert r.status_code == 500
