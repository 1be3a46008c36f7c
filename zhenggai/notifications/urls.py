from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("follow/<id:pk>/", views.follow, name="follow"),
]
