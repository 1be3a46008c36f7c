"""The embedded database: Django's SQLite backend with writers queued by the kernel."""
