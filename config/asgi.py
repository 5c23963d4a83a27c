"""ASGI entry point: `/in/` goes straight to the lean ingest callable, the
rest of HTTP to Django, WebSockets to Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

# Static files are served by WhiteNoise's middleware inside Django, behind
# the security headers, so `make run` stays one process tree with no CDN.
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from events.ingest import receive_webhook  # noqa: E402
from realtime.routing import websocket_application  # noqa: E402


async def http_router(scope, receive, send) -> None:
    if scope["path"].startswith("/in/"):
        await receive_webhook(scope, receive, send)
    else:
        await django_http(scope, receive, send)


application = ProtocolTypeRouter({"http": http_router, "websocket": websocket_application})
