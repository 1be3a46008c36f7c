"""What several benches share: a free port, a fresh PostgreSQL database, a gunicorn server.

The benches are run as scripts (``.venv/bin/python bench/X.py``), so ``bench/`` is on
``sys.path`` and they ``import _common``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

# The local server's maintenance database; bench databases are made next to it.
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_url(name: str) -> str:
    """The URL of database ``name`` on the server of :data:`PG_ADMIN`."""
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def pg_fresh_db(name: str) -> str:
    """Drop and create database ``name``; return its URL. Raises if PostgreSQL is not
    reachable (or psycopg not installed)."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return pg_url(name)


@contextlib.contextmanager
def gunicorn(port: int, env: Mapping[str, str], cwd: str | os.PathLike, workers: int = 2,
             wait_s: float = 20.0) -> Iterator[subprocess.Popen]:
    """Serve ``zhenggai.wsgi`` with gunicorn on 127.0.0.1:``port``; yield once the port
    accepts connections, terminate the server on the way out."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "zhenggai.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        env={"ZHENGGAI_DEMO": "1", **env}, cwd=Path(cwd))  # benches run on the demo key
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {server.returncode}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not listen on port {port} within "
                                       f"{wait_s:.0f} s") from None
                time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        server.wait()

