"""Excel and CSV import and export of the ledger, and the event export (issue 5)."""
