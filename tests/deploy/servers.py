"""App servers and workers as processes, for the tests of a scaled-out site."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

from .conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, port: int, workers: int = 1) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "zhenggai.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_listening(proc: subprocess.Popen, port: int, wait_s: float = 60) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {proc.stderr.read().decode()}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not listen on {port}") from None
            time.sleep(0.1)


@contextlib.contextmanager
def servers(env: dict, n: int) -> Iterator[list[int]]:
    """``n`` gunicorn app servers (one worker process each) against one database."""
    ports = [free_port() for _ in range(n)]
    procs = [start_server(env, p) for p in ports]
    try:
        for proc, port in zip(procs, ports, strict=True):
            wait_listening(proc, port)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
            proc.stderr.close()
