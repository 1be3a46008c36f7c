"""The grouping part of the JSON API, mounted by zhenggai/api under /api/v1/grouping/."""
from ninja import Router

router = Router(tags=["grouping"])
