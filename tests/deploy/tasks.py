"""A job for the worker tests: it waits, then appends its number to a file, so a test can
see which jobs ran and how many times."""

import time

from django_tasks import task


@task()
def mark(path: str, n: int, sleep: float = 0.0) -> int:
    time.sleep(sleep)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{n}\n")
    return n
