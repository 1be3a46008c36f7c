from django.urls import path

from zhenggai.figures import views as figures

urlpatterns = [
    path("", figures.situation, name="situation"),
]
