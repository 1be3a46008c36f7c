"""Summarising opinions: the Django side of grouping (issue 6). engine/ and text.py stay
free of Django so the engine can be used and benchmarked on its own."""
from django.apps import AppConfig


class GroupingConfig(AppConfig):
    name = "zhenggai.grouping"
    label = "grouping"

    def ready(self) -> None:
        # Opinions log themselves for the index in their own transaction (opinions/intake.py,
        # _store); nothing to connect here. Importing the service early keeps its
        # per-process index ready for the first suggestion.
        from . import service  # noqa: F401
