from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from zhenggai import ids  # noqa: F401  (registers <id:…>)

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin signs in through the one throttled log-in page (web/views/account.py).
    path("admin/login/", RedirectView.as_view(url="/login/", query_string=True),
         name="admin-login"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the pages link: the site's icon, not a 404 (a
    # temporary redirect: the icon's address changes with its content).
    path("favicon.ico", lambda request: redirect(static("web/favicon.svg"))),
    path("api/v1/", include("zhenggai.api.urls")),  # /api/v1/openapi.json
    path("production/", include("zhenggai.production.urls")),
    path("grouping/", include("zhenggai.grouping.urls")),
    path("exchange/", include("zhenggai.exchange.urls")),
    path("notifications/", include("zhenggai.notifications.urls")),
    # The boards (public and leader) at their own paths; the role pages own the rest.
    path("", include("zhenggai.web.urls")),
]

# The error pages in the site's layout, both languages (error_pages.py). The database cannot
# be reached (a restart, a failover): 503 and Retry-After, not a 500; a 500 never reads it.
handler404 = "zhenggai.error_pages.not_found"
handler403 = "zhenggai.error_pages.forbidden"
handler500 = "zhenggai.error_pages.server_error"
