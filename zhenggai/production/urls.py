from django.urls import path

from . import views

app_name = "production"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("heats/", views.heat_list, name="heats"),
    path("heats/new/", views.heat_new, name="heat_new"),
    path("heats/<id:pk>/", views.heat_detail, name="heat"),
    path("records/", views.record_list, name="records"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("target/", views.target, name="target"),
]
