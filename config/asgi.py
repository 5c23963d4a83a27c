"""ASGI entry point: `/in/` and `/m/` go straight to the lean ingest and
report callables, the rest of HTTP to Django, WebSockets to Channels."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

# Static files are served by WhiteNoise's middleware inside Django, behind
# the security headers, so `make run` stays one process tree with no CDN.
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from config.hosts import request_host_key, separate_ingest_host  # noqa: E402
from events.ingest import receive_webhook  # noqa: E402
from monitoring.reports import receive_report  # noqa: E402
from realtime.routing import websocket_application  # noqa: E402

# Read once: the settings of a running server do not change.
INGEST_HOST = separate_ingest_host()


def for_ingest(scope) -> bool:
    """Whether ingest answers this HTTP request (events/ingest_http.py asks too)."""
    if INGEST_HOST is not None:
        # The ingest host answers every path itself: 404 but for /in/; the
        # dashboard's host leaves /in/ to Django (a 404).
        return request_host_key(scope) == INGEST_HOST
    return scope["path"].startswith("/in/")


async def http_router(scope, receive, send) -> None:
    if for_ingest(scope):
        await receive_webhook(scope, receive, send)
    elif scope["path"].startswith("/m/"):
        await receive_report(scope, receive, send)
    else:
        await django_http(scope, receive, send)


async def websocket_router(scope, receive, send) -> None:
    if INGEST_HOST is not None and request_host_key(scope) == INGEST_HOST:
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008})  # before accept: an HTTP 403
        return
    await websocket_application(scope, receive, send)


application = ProtocolTypeRouter({"http": http_router, "websocket": websocket_router})


# Everything imported so far lives as long as the process: move it out of the
# collector's reach, so the full collections that per-request garbage
# triggers no longer walk Django's whole object graph.
gc.freeze()
