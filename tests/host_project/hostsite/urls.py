from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from people.api import DeployView

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("account/tokens/", include("access_tokens.urls")),
    path("api/", include("access_tokens.api_urls")),
    path("api/deploys/", DeployView.as_view(), name="deploys"),
    path("admin/", admin.site.urls),
]
