"""A cap on concurrent argon2 work, shared by every server process on the machine.

Each argon2 hash of a receipt takes a core for a fraction of a second and 64 MiB. Without a
cap, a few guessers keep every gunicorn worker hashing and the pages stop for everyone. The
cap is a few lock files in the data folder (one per slot, `fcntl.flock`): a process takes a
free slot, waits briefly for one, or answers "busy, try again" (503) at once. A lock held by a
process that dies is released by the kernel.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import DomainError

POLL_S = 0.02


class Busy(DomainError):
    """The server is at its cap of concurrent argon2 work. Nothing was done."""

    code = "busy"
    status = 503
    retry_after = 2


def _folder() -> Path:
    folder = Path(settings.DATA_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def slot(wait_s: float | None = None):
    """Hold one of settings.ARGON2_SLOTS slots while the block runs; raise Busy if none is
    free within `wait_s` (default settings.ARGON2_WAIT_S)."""
    n = max(1, settings.ARGON2_SLOTS)
    folder = _folder()
    deadline = time.monotonic() + (settings.ARGON2_WAIT_S if wait_s is None else wait_s)
    start = os.getpid() % n  # spread processes over the slots
    while True:
        for i in range(n):
            path = folder / f"argon2-{(start + i) % n}.lock"
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            return
        if time.monotonic() >= deadline:
            raise Busy(_("The server is busy. Try again in a moment."))
        time.sleep(POLL_S)
