"""A stand-in URL conf mounting the grouping router at /api/v1/grouping/ with the project's
token auth and error handlers, for as long as zhenggai/api does not mount it itself."""
from django.urls import path
from ninja import NinjaAPI

from zhenggai.api.api import api as main_api
from zhenggai.api.auth import TokenAuth
from zhenggai.errors import DomainError
from zhenggai.grouping.api import router

api = NinjaAPI(title="grouping-test", version="test", urls_namespace="grouping-api-test",
               auth=TokenAuth(), docs_url=None)
api.add_exception_handler(DomainError, main_api._exception_handlers[DomainError])
api.add_router("/grouping/", router)
urlpatterns = [path("api/v1/", api.urls)]
