"""Backups of the whole instance, and restoring one into an empty instance.

SQLite is copied through its online backup API, which reads one consistent snapshot while
the servers keep writing (WAL: readers never block the writer). PostgreSQL is dumped by
``pg_dump --format=custom`` and read back by ``pg_restore``. Either way the backup is one
file in the engine's own format, so the engine's own tools can read it too. Uploaded photos
live in the media folder, not the database: if there are any, they go into ``FILE.media.tar``
beside it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection, connections
from django.utils.translation import gettext as _

from zhenggai.errors import InvalidInput


def engine() -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def media_path(path: Path) -> Path:
    return path.with_name(path.name + ".media.tar")


def backup(path: str | os.PathLike) -> dict:
    """Write a backup of the database (and of the media folder, if not empty) to ``path``."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInput(_("%(path)s is a folder; name a file.") % {"path": path})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)
    if engine() == "sqlite":
        _sqlite_backup(tmp)
    else:
        _pg(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(tmp),
             "--dbname", _pg_url()])
    os.replace(tmp, path)  # never a half-written backup under the real name
    media = _backup_media(path)
    return {"engine": engine(), "bytes": path.stat().st_size, "media": media}


def restore(path: str | os.PathLike, *, force: bool = False) -> dict:
    """Load a backup made by :func:`backup` into this instance's database, which must be
    empty (no organisation yet) unless ``force``. Stop the servers and workers first."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(_("No backup at %(path)s.") % {"path": path})
    if not force and _has_data():
        raise InvalidInput(_("This instance holds data already; restore into an empty one "
                             "(or pass --force to replace everything)."))
    connections.close_all()
    if engine() == "sqlite":
        _sqlite_restore(path)
    else:
        _pg_restore(path, force=force)
    media = media_path(path)
    if media.is_file():
        root = Path(settings.MEDIA_ROOT)
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(media) as tar:
            tar.extractall(root, filter="data")
    return {"engine": engine(), "media": media.is_file()}


# SQLite ------------------------------------------------------------------------------


def _sqlite_name() -> str:
    return str(connection.settings_dict["NAME"])


def _sqlite_backup(dest: Path) -> None:
    src = sqlite3.connect(_sqlite_name())
    out = sqlite3.connect(dest)
    try:
        # All pages in one step: one read transaction, so one consistent snapshot, while
        # writers go on in the WAL.
        src.backup(out)
    finally:
        out.close()
        src.close()
    check = sqlite3.connect(dest)
    try:
        # The copy keeps WAL mode; make it one self-contained file.
        check.execute("PRAGMA journal_mode=DELETE")
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise InvalidInput(_("The backup failed its integrity check."))
    finally:
        check.close()


def _sqlite_restore(path: Path) -> None:
    target = _sqlite_name()
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    out = sqlite3.connect(target)
    try:
        src.backup(out)
        out.execute("PRAGMA journal_mode=WAL")
    finally:
        out.close()
        src.close()


# PostgreSQL --------------------------------------------------------------------------


def _pg_url() -> str:
    s = connection.settings_dict
    auth = quote(s.get("USER") or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "localhost"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgresql://{auth}{'@' if auth else ''}{host}{port}/{quote(s['NAME'], safe='')}"


def pg_tool(name: str) -> str | None:
    """The newest installed ``pg_dump``/``pg_restore``: a dump must be read by a tool at
    least as new as the server."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                   key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return str(found[-1]) if found else shutil.which(name)


def _pg(args: list[str]) -> None:
    tool = pg_tool(args[0])
    if tool is None:
        raise InvalidInput(_("%(tool)s is not installed (PostgreSQL's client tools, e.g. "
                             "the postgresql-client package).") % {"tool": args[0]})
    r = subprocess.run([tool, *args[1:]], capture_output=True, text=True)
    if r.returncode != 0:
        raise InvalidInput(_("%(tool)s failed: %(err)s") % {"tool": args[0],
                                                          "err": r.stderr.strip()[-2000:]})


def _pg_restore(path: Path, *, force: bool) -> None:
    args = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
            "--single-transaction", "--dbname", _pg_url()]
    if force or connection.introspection.table_names():
        # Tables made by `zhenggai migrate` (or the old data, forced): replaced.
        args += ["--clean", "--if-exists"]
    _pg([*args, str(path)])


def _has_data() -> bool:
    from django.db.utils import DatabaseError

    from zhenggai.org.models import Organisation

    try:
        if Organisation._meta.db_table not in connection.introspection.table_names():
            return False
        return Organisation.objects.exists()
    except DatabaseError:
        return False


def _backup_media(path: Path) -> int:
    root = Path(settings.MEDIA_ROOT)
    files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
    target = media_path(path)
    if not files:
        target.unlink(missing_ok=True)
        return 0
    tmp = target.with_name(target.name + ".part")
    with tarfile.open(tmp, "w") as tar:
        for p in files:
            tar.add(p, arcname=str(p.relative_to(root)))
    os.replace(tmp, target)
    return len(files)
