from django.contrib import admin
from django.urls import include, path

from zhenggai.figures import views as figures

urlpatterns = [
    path("", figures.situation, name="situation"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
