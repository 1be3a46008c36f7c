"""schemathesis against the OpenAPI document the app serves: generated requests to every
operation, as a clerk with a token, must give no 5xx and no response that breaks the
document."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.helpers import bring_to
from zhenggai.api.models import ApiToken
from zhenggai.wsgi import application


@pytest.fixture
def keep_connection():
    """Calls through the WSGI app end with request_finished, which closes the database
    connection; the test's transaction must outlive them (Django's test client does the
    same)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(story, keep_connection):
    for state in ("open", "assigned", "claimed", "verified"):
        bring_to(story, state)
    _, token = ApiToken.issue(story.clerk)
    return token


def test_no_server_error_and_no_schema_violation(token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=headers,
                                   checks=[not_a_server_error, response_schema_conformance])

        run()
