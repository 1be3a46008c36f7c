"""Plain rows into a table, fast: the bulk writers' one way to write many rows (the opinion
intake's bulk write, the bulk loader's problems and events)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


def insert_rows(table: str, cols: Sequence[str], rows: Sequence[tuple]) -> None:
    """Plain rows into a table: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cur, cur.cursor.copy(
            f"COPY {table} ({', '.join(cols)}) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row(r)
        return
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    with connection.cursor() as cur:
        cur.executemany(sql, rows)
