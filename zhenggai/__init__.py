"""zhenggai (整改): run a rectification campaign and keep its figures honest."""

__version__ = "0.1.0"
