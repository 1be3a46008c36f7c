"""The web pages for every role (issue 4)."""
