from django.contrib.auth import views as auth
from django.urls import path

from zhenggai.figures import views as figures

urlpatterns = [
    path("", figures.situation, name="situation"),
    path("login/", auth.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
]
