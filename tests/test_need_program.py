"""A test that needs a system program skips without it and says why; under CI=true it fails."""


import pytest

from tests.helpers import need_program


def test_skip_without(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install zz"):
        need_program("no-such-program-zz", package="zz")

def test_fail_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        need_program("no-such-program-zz", package="zz")
