"""The typed JSON API under /api/v1/ (issue 5)."""
