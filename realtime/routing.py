"""WebSocket routes (config.asgi hands every WebSocket here)."""

from channels.routing import URLRouter
from channels.sessions import SessionMiddlewareStack
from django.urls import path

from events.source import SourceConsumer
from realtime.consumers import StreamConsumer
from realtime.test_feed import TestFeedConsumer

# Only the session, not AuthMiddleware: token clients never pay for a
# session lookup, and realtime.auth reads the session only when the
# Origin is one of ours.
websocket_application = URLRouter(
    [
        path("v1/ws", SessionMiddlewareStack(StreamConsumer.as_asgi())),
        path("v1/ws/test/<str:session_id>", TestFeedConsumer.as_asgi()),
        path("v1/ws/source/<str:endpoint_id>", SourceConsumer.as_asgi()),
    ]
)
