from django.contrib import admin
from django.urls import include, path, register_converter

from config.ids import PublicIdConverter
from monitoring.metrics import metrics

register_converter(PublicIdConverter, "pid")

# JSON under /api/, Django's pages elsewhere.
handler400 = "config.api_errors.bad_request"
handler404 = "config.api_errors.page_not_found"
handler500 = "config.api_errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("metrics", metrics, name="metrics"),
    path("", include("endpoints.urls")),
    path("", include("events.urls")),
    path("", include("monitoring.urls")),
    path("", include("replays.urls")),
    path("", include("testsessions.urls")),
]
