"""Routes of the REST API, mounted at /api/v1/."""

from django.urls import path, re_path
from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from accounts.api import LogoutView, TokenObtainView, TokenRotateView
from config.api_errors import not_found
from endpoints.api import ApiKeyViewSet, EndpointViewSet
from events.api import EventViewSet
from monitoring.api import AlertViewSet
from monitoring.channel_api import ChannelViewSet
from replays.api import BulkReplayViewSet
from testsessions.api import TestSessionClaim, TestSessionCreate, TestSessionEvents

# Both API viewers inject their own styles, and Redoc runs a worker from a
# blob; still no inline script and nothing loaded from elsewhere.
DOCS_CSP = {"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}

# "api-" basenames keep these URL names apart from the web UI's.
router = SimpleRouter()
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("endpoints", EndpointViewSet, basename="api-endpoint")
router.register("events", EventViewSet, basename="api-event")
router.register("alerts", AlertViewSet, basename="api-alert")
router.register("channels", ChannelViewSet, basename="api-channel")
router.register("replays", BulkReplayViewSet, basename="api-replay")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("auth/token/refresh/", TokenRotateView.as_view(), name="api-token-refresh"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's setup as a script file: no inline script.
    path("docs/", csp_update(DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("redoc/", csp_update(DOCS_CSP)(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    *router.urls,
    path("test-sessions/", TestSessionCreate.as_view(), name="api-test-session-create"),
    path("test-sessions/<pid:session_id>/events/", TestSessionEvents.as_view(), name="api-test-session-events"),
    path("test-sessions/<pid:session_id>/claim/", TestSessionClaim.as_view(), name="api-test-session-claim"),
    # Only paths ending in "/": a missing trailing slash still gets
    # APPEND_SLASH's redirect instead of a 404.
    re_path(r"^(?:.*/)?$", not_found),
]
