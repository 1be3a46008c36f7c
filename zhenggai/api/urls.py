import json
import os

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from .api import api

urlpatterns = [path("", api.urls)]


@csrf_exempt
def bare(request):
    """The benchmark's yardstick: parse the JSON, answer with JSON, touch nothing else."""
    body = json.loads(request.body or b"{}")
    return JsonResponse({"ok": True, "n": len(body.get("text", ""))}, status=201)


# Only for bench/intake.py, which compares the opinions endpoint with a bare Django view
# on the same server.
if os.environ.get("ZHENGGAI_BENCH_BARE") == "1":
    urlpatterns.insert(0, path("bench/bare", bare))
