"""A job for the worker tests: it waits while ``PATH.hold`` exists (up to ``hold`` seconds),
then appends its number to ``PATH``, so a test can see which jobs ran and how many times."""

import os
import time

from django_tasks import task


@task()
def mark(path: str, n: int, hold: float = 0.0) -> int:
    until = time.monotonic() + hold
    while os.path.exists(path + ".hold") and time.monotonic() < until:
        time.sleep(0.05)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{n}\n")
    return n
