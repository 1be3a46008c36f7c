"""Summarising opinions: the Django side of grouping (issue 6). engine.py and text.py stay
free of Django so the engine can be used and benchmarked on its own."""
from django.apps import AppConfig


class GroupingConfig(AppConfig):
    name = "zhenggai.grouping"
    label = "grouping"

    def ready(self) -> None:
        from . import service  # noqa: F401  (connects the post_save receiver)
