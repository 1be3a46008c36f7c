"""The path converter for ids: `<id:pk>`. Like `<int:pk>`, but a number beyond 64 bits (no
row can have it) finds nothing, a 404, instead of overflowing the database (a 500)."""

from django.urls import register_converter

ID_MAX = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        n = int(value)
        if n > ID_MAX:
            raise ValueError(value)  # no match: 404
        return n

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
