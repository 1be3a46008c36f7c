"""The production part of the JSON API, mounted by zhenggai/api under /api/v1/production/."""
from ninja import Router

router = Router(tags=["production"])
