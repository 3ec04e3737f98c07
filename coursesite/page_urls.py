from django.contrib.auth import views as auth_views
from django.urls import path

from coursesite import views

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("", views.home, name="home"),
    path("courses/<slug:slug>/", views.course_page, name="course"),
]
