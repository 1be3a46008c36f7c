"""Ids: every row's id is a 64-bit integer (an opinion's is random, up to 19 digits).

The one parser of an id that came from outside: a path (`<id:pk>`), a form, a query string,
an API body or cursor. A number no 64-bit column can hold finds nothing (a 404 or a 422)
instead of overflowing the database (a 500)."""

from __future__ import annotations

from django.urls import register_converter

ID_MIN, ID_MAX = -(2**63), 2**63 - 1


def in_range(n: int) -> bool:
    return ID_MIN <= n <= ID_MAX


def parse(value: object) -> int | None:
    """A positive id from text (or an int), or None: no sign, no spaces, at most 19 digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= ID_MAX else None
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        return None
    if len(value) > 19:
        return None
    n = int(value)
    return n if 0 < n <= ID_MAX else None


def parse_all(values) -> list[int]:
    """The ids among values, in order; what is not an id is left out."""
    return [n for n in map(parse, values) if n is not None]


class IdConverter:
    """`<id:pk>`: like `<int:pk>`, but a number beyond 64 bits is a 404, not a 500."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        n = parse(value)
        if n is None and value.strip("0") != "":
            raise ValueError(value)  # no match: 404
        return n or 0

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
