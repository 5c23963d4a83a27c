"""`/v1/ws/test/<ts_id>`: the live feed of an anonymous test session.

No credentials: the unguessable session id is the capability, as for the
REST list. Every request stored for the session's hidden endpoint arrives as
`{"type": "event", "channel": "test", "data": {...}}` with its body. Unknown,
expired, claimed or deleted sessions close with 4004; the socket also closes
by itself when the session expires. Client frames are read and ignored.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from config.ids import is_public_id
from endpoints.models import endpoint_group
from events.models import Event
from realtime import envelope
from realtime.outbox import Outbox
from testsessions.models import TestSession, test_session_group
from testsessions.serializers import request_data

log = logging.getLogger(__name__)

CLOSE_UNKNOWN_SESSION = 4004
# Bodies reach MAX_BODY_BYTES; a reader this far behind is told to refetch.
QUEUE_SIZE = 100


@dataclass
class Session:
    endpoint_pk: int
    endpoint_id: str
    expires_at: datetime


@database_sync_to_async
def find_session(session_id: str) -> Session | None:
    if not is_public_id(session_id) or not session_id.startswith("ts_"):
        return None
    row = (
        TestSession.objects.live()
        .filter(public_id=session_id)
        .values_list("endpoint_id", "endpoint__public_id", "expires_at")
        .first()
    )
    return Session(*row) if row else None


@database_sync_to_async
def load_request(endpoint_pk: int, event_id: str) -> dict[str, Any] | None:
    event = Event.objects.filter(endpoint_id=endpoint_pk, public_id=event_id).first()
    return request_data(event) if event is not None else None


class TestFeedConsumer(AsyncJsonWebsocketConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session: Session | None = None
        self.groups_joined: list[str] = []
        self.outbox = Outbox(QUEUE_SIZE)
        self.tasks: list[asyncio.Task] = []
        self.closing = False

    async def dispatch(self, message: dict) -> None:
        # The endpoint group also carries endpoint.status; only requests matter here.
        handler = getattr(self, get_handler_name(message), None)
        if handler is not None:
            await handler(message)

    async def connect(self) -> None:
        self.session = await find_session(self.scope["url_route"]["kwargs"]["session_id"])
        if self.session is None:
            await self.accept()
            await self._close(CLOSE_UNKNOWN_SESSION)
            return
        session_id = self.scope["url_route"]["kwargs"]["session_id"]
        for group in (endpoint_group(self.session.endpoint_id), test_session_group(session_id)):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()
        self.tasks.append(asyncio.create_task(self._send_loop()))
        self.tasks.append(asyncio.create_task(self._close_at_expiry()))

    async def disconnect(self, code: int) -> None:
        self.closing = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The feed is one-way; the protocol's pongs and anything else are ignored."""

    async def _close(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code)

    async def _close_at_expiry(self) -> None:
        await asyncio.sleep(max(0.0, (self.session.expires_at - timezone.now()).total_seconds()))
        await self._close(CLOSE_UNKNOWN_SESSION)

    async def _send_loop(self) -> None:
        while True:
            message, _ = await self.outbox.get()
            if self.closing:
                return
            try:
                await self.send_json(message)
            except Exception:  # the client went away: disconnect() cleans up
                return

    # Channel-layer messages

    async def event_received(self, event: dict) -> None:
        data = await load_request(self.session.endpoint_pk, event["message"]["data"]["id"])
        if data is not None and not self.closing:
            self.outbox.put(envelope.test_event(data))

    async def testsession_ended(self, event: dict) -> None:
        await self._close(CLOSE_UNKNOWN_SESSION)
