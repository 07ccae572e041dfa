from django.urls import path

from . import views

app_name = "access_tokens"

urlpatterns = [
    path("", views.index, name="list"),
    path("new/", views.create, name="create"),
    path("<uuid:token_id>/", views.detail, name="detail"),
    path("<uuid:token_id>/edit/", views.edit, name="edit"),
    path("<uuid:token_id>/rotate/", views.rotate, name="rotate"),
    path("<uuid:token_id>/delete/", views.delete, name="delete"),
]
