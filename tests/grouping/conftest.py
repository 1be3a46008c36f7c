import pytest


@pytest.fixture(autouse=True)
def fresh_indexes():
    """Each test starts as a freshly started process (test databases reuse campaign ids)."""
    from zhenggai.grouping.service import service

    service.forget()
    yield
    service.forget()
