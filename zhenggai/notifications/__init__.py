"""Scheduled work and notifications: reminders, overdue posters, re-checks (issue 5)."""
