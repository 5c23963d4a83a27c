from django.contrib.auth import views as auth_views
from django.urls import path

from endpoints import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("endpoints/", views.endpoint_list, name="endpoint_list"),
    path("endpoints/new/", views.endpoint_create, name="endpoint_create"),
    path("endpoints/<pid:public_id>/", views.endpoint_detail, name="endpoint_detail"),
    path("endpoints/<pid:public_id>/edit/", views.endpoint_edit, name="endpoint_edit"),
    path("endpoints/<pid:public_id>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("endpoints/<pid:public_id>/pause/", views.pause, name="endpoint_pause"),
    path("endpoints/<pid:public_id>/resume/", views.resume, name="endpoint_resume"),
    path("endpoints/<pid:public_id>/rotate-secret/", views.rotate_secret, name="endpoint_rotate_secret"),
    path("endpoints/<pid:public_id>/rotate-ingest-url/", views.rotate_ingest_url, name="endpoint_rotate_ingest_url"),
]
