from django.urls import path

from . import views

app_name = "grouping"
urlpatterns = [
    path("<id:pk>/suggest/", views.suggest, name="suggest"),
    path("<id:pk>/proposals/", views.proposals, name="proposals"),
]
