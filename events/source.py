"""`/v1/ws/source/<ep_id>?token=<API key>`: ingest over a WebSocket.

Each text message is one webhook, stored exactly as a `POST` of that body
with `content-type: application/json` to the endpoint's ingest URL: through
the same batcher and store as `/in/`, then the same after-commit work
(forwarding wake-up, `event.received`). The answer comes after the commit,
`{"type": "ack", "event_id"}`, or `{"type": "nack", "error"}` for a message
that was not stored or was refused (what a POST would have been answered
with a 4xx: a failed signature check in reject mode adds the stored
`event_id`); a duplicate dropped by dedup is acked with the original's id
and `"duplicate": true`. The socket stays open either way. Messages are stored
concurrently (sharing commits) but stamped and answered in the order they
came, so answers and events follow the order of the messages.

Close codes: 4001 missing, invalid or revoked API key; 4003 an endpoint that
is not the key owner's (or no longer exists). Refusals accept first and then
close, so clients see the code instead of a bare handshake failure.
"""

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from config.ids import is_public_id
from endpoints.models import ApiKey, Endpoint
from events.ingest import batcher
from events.answers import JSON
from events.store import Arrival, Stored
from realtime import internal
from realtime.auth import API_KEY_PREFIX, query_token

log = logging.getLogger(__name__)

CLOSE_BAD_KEY = 4001
CLOSE_NOT_YOURS = 4003
HEADERS = [["content-type", "application/json"]]
# Messages read but not answered yet; past this, reading waits.
MAX_UNANSWERED = 256
ENDPOINT_GONE = "The endpoint no longer exists."


@dataclass(frozen=True)
class Source:
    key_id: str
    endpoint_id: str
    ingest_token: str


@database_sync_to_async
def api_key_owner(raw: str) -> tuple[str, int] | None:
    """(key id, owner id) of an active API key."""
    if not raw.startswith(API_KEY_PREFIX):
        return None
    key = ApiKey.authenticate(raw)
    return (key.public_id, key.owner_id) if key is not None else None


@database_sync_to_async
def ingest_token_of(owner_id: int, endpoint_id: str) -> str | None:
    if not is_public_id(endpoint_id):
        return None
    endpoints = Endpoint.objects.filter(owner_id=owner_id, public_id=endpoint_id)
    return endpoints.values_list("ingest_token", flat=True).first()


class SourceConsumer(AsyncWebsocketConsumer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.source: Source | None = None
        self.owner_id: int | None = None
        self.closing = False
        self.groups_joined: list[str] = []
        # Answers in message order, each awaited before the next is sent; a
        # full queue holds up reading further messages (backpressure).
        self.answers: asyncio.Queue[asyncio.Future] = asyncio.Queue(MAX_UNANSWERED)
        self.sender: asyncio.Task | None = None

    async def dispatch(self, message: dict) -> None:
        # Channels' own dispatch hops to the database thread before every
        # message to close stale connections; the ORM here only runs in
        # database_sync_to_async, which does that itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            log.warning("no handler for channel-layer message %r", message["type"])
            return
        await handler(message)

    async def connect(self) -> None:
        owner = await api_key_owner(query_token(self.scope))
        if owner is None:
            await self._refuse(CLOSE_BAD_KEY)
            return
        key_id, self.owner_id = owner
        endpoint_id = self.scope["url_route"]["kwargs"]["endpoint_id"]
        token = await ingest_token_of(self.owner_id, endpoint_id)
        if token is None:
            await self._refuse(CLOSE_NOT_YOURS)
            return
        self.source = Source(key_id, endpoint_id, token)
        # Revoking the key closes its sockets, this one included.
        group = internal.api_key_group(key_id)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)
        await self.accept()
        self.sender = asyncio.create_task(self._send_answers())

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if self.sender is not None:
            self.sender.cancel()
            await asyncio.gather(self.sender, return_exceptions=True)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _refuse(self, code: int) -> None:
        await self.accept()
        await self._close(code)

    async def _close(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code)

    async def apikey_revoked(self, event: dict) -> None:
        await self._close(CLOSE_BAD_KEY)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        body = text_data.encode("utf-8") if text_data is not None else None
        error = _refusal(text_data, body)
        if error:
            answer = asyncio.get_running_loop().create_future()
            answer.set_result(_nack(error))
        else:
            # Stored while the next messages are read: concurrent messages
            # share the batcher's commits, as concurrent POSTs do.
            answer = asyncio.ensure_future(self._store(body, timezone.now()))
        await self.answers.put(answer)

    async def _store(self, body: bytes, received_at: datetime) -> dict:
        client = self.scope.get("client")
        for _ in range(2):
            arrival = Arrival(
                token=self.source.ingest_token,
                method="POST",
                path="",
                query="",
                headers=[list(pair) for pair in HEADERS],
                body=body,
                source_ip=client[0] if client else None,
                received_at=received_at,
            )
            try:
                stored = await batcher().submit(arrival)
            except Exception:
                log.exception("the WebSocket source could not store a message")
                return _nack("Storage is unavailable; send it again later.")
            answer = _answer(stored)
            if answer is not None:
                return answer
            # The ingest URL was rotated (look the new token up once) or the
            # endpoint was deleted.
            token = await ingest_token_of(self.owner_id, self.source.endpoint_id)
            if token is None:
                break
            self.source = Source(self.source.key_id, self.source.endpoint_id, token)
        return _nack(ENDPOINT_GONE)

    async def _send_answers(self) -> None:
        while True:
            answer = await (await self.answers.get())
            if self.closing:
                return
            await self.send(text_data=json.dumps(answer))
            if answer.get("error") == ENDPOINT_GONE:
                await self._close(CLOSE_NOT_YOURS)
                return


def _refusal(text_data: str | None, body: bytes | None) -> str:
    """Why a message cannot be stored as a webhook, or ""."""
    if text_data is None or body is None:
        return "Send each webhook as a text message holding its JSON body."
    if len(body) > settings.MAX_BODY_BYTES:
        return f"Body is larger than the limit of {settings.MAX_BODY_BYTES} bytes."
    try:
        json.loads(text_data)
    except ValueError as exc:
        return f"Invalid JSON: {exc}."
    return ""


def _answer(stored: Stored) -> dict | None:
    """What a POST would have been told, as an ack or nack; None: no such endpoint."""
    if stored.rejected:
        return _nack(f"This message cannot be stored: {stored.rejected}")
    if stored.limited:
        return _nack(f"Rate limit of {stored.endpoint.rate_limit} requests per second exceeded.")
    if stored.answer is not None:  # a rejected signature, a dropped duplicate, a handshake
        try:
            said = json.loads(stored.answer.body) if stored.answer.content_type == JSON else {}
        except ValueError:
            said = {}
        if not 200 <= stored.answer.status < 300:
            # Stored as `rejected` when a signature failed: its id is worth having.
            nack = _nack(said.get("detail") or f"Refused with HTTP {stored.answer.status}.")
            return nack | ({"event_id": stored.event.public_id} if stored.event is not None else {})
        if said.get("duplicate"):
            return {"type": "ack", "event_id": said["event_id"], "duplicate": True}
    if stored.event is not None:
        return {"type": "ack", "event_id": stored.event.public_id}
    return None


def _nack(error: str) -> dict:
    return {"type": "nack", "error": error}
