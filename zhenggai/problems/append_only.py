"""The events table is append-only in the database itself, not only in the ORM.

Migration 0004 puts triggers on problems_event: on SQLite and PostgreSQL every UPDATE is
refused, and every DELETE (and TRUNCATE on PostgreSQL) too, unless this connection has opened
`erasable()`: the one way to empty the table, which only the test suite's flush uses; or, on
PostgreSQL, the daily shuffle's DELETE, whose rows it inserts again unchanged in the same
transaction (opinions.shuffle, so that no physical order dates an anonymous act). On
SQLite the exception is a function that only zhenggai's own backend defines, so a raw
`sqlite3` shell is refused outright; on PostgreSQL it is a session setting.

What this does not stop: somebody with the rights to drop a trigger. `zhenggai figures
--verify` folds every problem's events and compares them with the stored rows, so a changed
projection is found; a consistent rewrite of the events themselves by such a person is not.
"""

from __future__ import annotations

import contextlib

from django.db import connections

SQLITE_FUNCTION = "zhenggai_events_erasable"
PG_SETTING = "zhenggai.events_erasable"
SHUFFLE_SETTING = "zhenggai.shuffle"  # set by opinions.shuffle for its one transaction
MESSAGE = "problems_event is append-only: events are never changed or deleted"

_erasable = False


def sqlite_erasable() -> int:
    return 1 if _erasable else 0


@contextlib.contextmanager
def erasable(using: str = "default"):
    """Allow DELETE/TRUNCATE of events on this connection while the block runs (tests'
    flush only)."""
    global _erasable
    conn = connections[using]
    if conn.vendor == "postgresql":
        with conn.cursor() as cur:
            cur.execute(f"SET {PG_SETTING} = 'on'")
        try:
            yield
        finally:
            with conn.cursor() as cur:
                cur.execute(f"RESET {PG_SETTING}")
        return
    _erasable = True
    try:
        yield
    finally:
        _erasable = False


SQLITE_INSTALL = [
    "CREATE TRIGGER problems_event_no_update BEFORE UPDATE ON problems_event "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    "CREATE TRIGGER problems_event_no_delete BEFORE DELETE ON problems_event "
    f"WHEN NOT {SQLITE_FUNCTION}() BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_REMOVE = ["DROP TRIGGER IF EXISTS problems_event_no_update",
                 "DROP TRIGGER IF EXISTS problems_event_no_delete"]

PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION problems_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' AND current_setting('{PG_SETTING}', true) = 'on' THEN
            RETURN NULL;
        END IF;
        -- The daily shuffle (opinions.shuffle) deletes a finished day's rows and inserts
        -- them again, unchanged, in random order in the same transaction.
        IF TG_OP = 'DELETE' AND current_setting('{SHUFFLE_SETTING}', true) = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'raise_exception';
    END $$""",
    "CREATE TRIGGER problems_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
    "ON problems_event FOR EACH STATEMENT EXECUTE FUNCTION problems_event_append_only()",
]
PG_REMOVE = ["DROP TRIGGER IF EXISTS problems_event_append_only ON problems_event",
             "DROP FUNCTION IF EXISTS problems_event_append_only()"]


def install(schema_editor) -> None:
    _run(schema_editor, PG_INSTALL if schema_editor.connection.vendor == "postgresql"
         else SQLITE_INSTALL)


def remove(schema_editor) -> None:
    _run(schema_editor, PG_REMOVE if schema_editor.connection.vendor == "postgresql"
         else SQLITE_REMOVE)


def _run(schema_editor, statements) -> None:
    if schema_editor.connection.vendor not in ("postgresql", "sqlite"):
        return
    for sql in statements:
        schema_editor.execute(sql, params=None)
