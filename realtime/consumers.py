"""`/v1/ws`: the live stream of a user's endpoints (README, "Live stream").

Close codes: 1000 normal, and also for a client silent for WS_IDLE_SECONDS
(it stopped answering pings: nothing to tell it); 4001 missing, invalid,
expired or revoked credentials (a session that logged out, or whose
user's password changed, included); 4002 a frame that is not a valid
JSON request; 4029 too many connections for one user. Refusals accept first and
then close, so browsers see the code instead of a bare handshake failure.

Every client-visible message is built by realtime.envelope and forwarded
unchanged. Channel-layer messages only ever enter the bounded outbox; one
sender task writes to the socket, so a slow client never holds up the group
receive loop (nor ingest, delivery or other clients).
"""

import asyncio
import json
import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from config.ids import is_public_id
from endpoints.models import Endpoint, endpoint_group, user_group
from realtime import connections, internal, replay
from realtime.auth import Principal, api_key_active, authenticate, session_active
from realtime.envelope import envelope
from realtime.outbox import Outbox

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_IDLE = CLOSE_NORMAL
CLOSE_UNAUTHORIZED = 4001
CLOSE_BAD_MESSAGE = 4002
CLOSE_TOO_MANY = 4029

MAX_FRAME_BYTES = 64 * 1024
WILDCARD = "*"
# Channel-layer types forwarded to the client as they are.
FORWARDED = frozenset({
    "event.received", "event.retrying", "event.delivered", "event.failed", "endpoint.status",
    "alert.opened", "alert.resolved", "replay.progress",
})
# How long a replayed message's key waits for its live copy. A live copy
# trails its database commit by at most the publisher's send timeout (5 s).
REPLAY_DEDUPE_SECONDS = 30.0


@database_sync_to_async
def owned_endpoint_ids(user_id: int, endpoint_ids: list[str]) -> set[str]:
    return set(
        Endpoint.objects.filter(owner_id=user_id, public_id__in=endpoint_ids).values_list("public_id", flat=True)
    )


@database_sync_to_async
def all_endpoint_ids(user_id: int) -> set[str]:
    return set(Endpoint.objects.filter(owner_id=user_id).values_list("public_id", flat=True))


def _endpoint_list(content: dict) -> list[str] | None:
    endpoints = content.get("endpoints")
    if not isinstance(endpoints, list) or not all(isinstance(item, str) for item in endpoints):
        return None
    return endpoints


class StreamConsumer(AsyncJsonWebsocketConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.principal: Principal | None = None
        self.holds_slot = False
        self.closing = False
        self.outbox = Outbox(settings.WS_QUEUE_SIZE)
        self.explicit: set[str] = set()  # endpoints subscribed by id
        self.wildcard = False  # subscribed to "*"
        self.joined: set[str] = set()  # endpoints whose groups this socket is in
        self.groups_joined: set[str] = set()  # every group, for disconnect
        self.replayed: dict[tuple, float] = {}  # message key -> forget-after (loop time)
        self.last_heard = 0.0
        self.tasks: list[asyncio.Task] = []
        self.attached = False  # the layer offers group messages to _offered
        self.dispatching = False
        self.queued = 0  # group messages the layer queued for dispatch

    async def dispatch(self, message: dict) -> None:
        if self.attached and self.queued and not message["type"].startswith("websocket."):
            self.queued -= 1
        # Channels' own dispatch hops to the database thread before every
        # message to close stale connections: one hop per forwarded event per
        # socket, through a single thread. Every ORM call here already runs in
        # database_sync_to_async, which does that cleanup itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            # A type some newer publisher sends: never worth dropping the socket.
            log.warning("no handler for channel-layer message %r", message["type"])
            return
        self.dispatching = True
        try:
            await handler(message)
        finally:
            self.dispatching = False

    def _offered(self, message: dict) -> bool:
        """The layer offers each group message here first (realtime/layer.py).

        A message to forward goes to the outbox at once when the consumer is
        idle, nothing is queued ahead of it and the socket has sent what it
        had; otherwise it waits its turn in the queue, so order and "one
        message at a time" hold as with Channels' own dispatch (a subscribe's
        replay, a revocation, a join), and a burst reaches the outbox at the
        pace the socket drains it, as before.
        """
        if self.dispatching or self.queued or len(self.outbox) or message["type"] not in FORWARDED:
            self.queued += 1
            return False
        self._forward(message)
        return True

    # Connection lifecycle

    async def connect(self) -> None:
        attach = getattr(self.channel_layer, "attach", None)
        if attach is not None:
            attach(self.channel_name, self._offered)
            self.attached = True
        principal = await authenticate(self.scope)
        if principal is None:
            await self._refuse(CLOSE_UNAUTHORIZED)
            return
        self.principal = principal
        if not await connections.acquire(principal.user_id, self.channel_name):
            await self._refuse(CLOSE_TOO_MANY)
            return
        self.holds_slot = True
        if principal.api_key_id:
            await self._group_add(internal.api_key_group(principal.api_key_id))
            # A revocation committed between authenticate() and joining the
            # key's group was announced to nobody; look once more.
            if not await api_key_active(principal.api_key_id):
                await self._refuse(CLOSE_UNAUTHORIZED)
                return
        if principal.session_group:
            await self._group_add(principal.session_group)
            await self._group_add(internal.user_sessions_group(principal.user_id))
            # The same for a logout or password change between
            # authenticate() and joining.
            if not await session_active(self.scope, principal.user_id):
                await self._refuse(CLOSE_UNAUTHORIZED)
                return
        await self.accept()
        self.last_heard = asyncio.get_running_loop().time()
        self.tasks.append(asyncio.create_task(self._send_loop()))
        self.tasks.append(asyncio.create_task(self._heartbeat()))
        if principal.expires_at is not None:
            self.tasks.append(asyncio.create_task(self._close_at(principal.expires_at)))

    async def disconnect(self, code: int) -> None:
        self.closing = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.attached:
            self.channel_layer.detach(self.channel_name)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.holds_slot:
            try:
                await connections.release(self.principal.user_id, self.channel_name)
            except Exception:  # the slot lapses on its own after slot_ttl()
                log.exception("could not release a connection slot")

    async def _refuse(self, code: int) -> None:
        await self.accept()
        await self._close(code)

    async def _close(self, code: int) -> None:
        if self.closing:
            return
        self.closing = True
        await self.close(code)

    async def _close_at(self, expires_at: float) -> None:
        # A timer, so an expired token is cut off even on a silent socket.
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self._close(CLOSE_UNAUTHORIZED)

    # Client frames

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        self.last_heard = asyncio.get_running_loop().time()
        if text_data is None or len(text_data.encode("utf-8")) > MAX_FRAME_BYTES:
            await self._close(CLOSE_BAD_MESSAGE)
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._close(CLOSE_BAD_MESSAGE)
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "pong":
            return
        endpoints = _endpoint_list(content) if kind in ("subscribe", "unsubscribe") else None
        if endpoints is None:
            await self._close(CLOSE_BAD_MESSAGE)
            return
        if kind == "unsubscribe":
            await self._unsubscribe(endpoints)
            return
        since = content.get("since")
        if since is not None and not isinstance(since, str):
            await self._close(CLOSE_BAD_MESSAGE)
            return
        await self._subscribe(endpoints, since)

    async def _subscribe(self, endpoints: list[str], since: str | None) -> None:
        user_id = self.principal.user_id
        cursor = None
        if since:
            cursor = await replay.event_cursor(user_id, since) if is_public_id(since) else None
            if cursor is None:
                self.outbox.put(envelope("error", detail=f"Unknown event in since: {since}"))
                return
        wanted = [item for item in endpoints if item != WILDCARD]
        well_formed = [item for item in wanted if is_public_id(item)]
        owned = await owned_endpoint_ids(user_id, well_formed) if well_formed else set()
        refused = set(wanted) - owned
        if refused:
            self.outbox.put(envelope("error", detail=f"Unknown endpoint: {', '.join(sorted(refused))}"))
        scope = set(owned)
        if WILDCARD in endpoints:
            if not self.wildcard:
                # Join before listing: an endpoint created in between is then
                # announced to this socket instead of being missed.
                await self._group_add(user_group(user_id))
                self.wildcard = True
            scope |= await all_endpoint_ids(user_id)
        self.explicit |= owned
        # Groups first, database second: whatever is committed after the
        # replay's query is published after this point, so it arrives live.
        # Live messages wait in the layer's queue meanwhile, because the
        # consumer dispatches one message at a time.
        for endpoint_id in sorted(scope):
            await self._join(endpoint_id)
        self.outbox.put(self._subscribed())
        if cursor is not None and scope:
            await self._replay(sorted(scope), cursor)

    async def _replay(self, endpoint_ids: list[str], cursor: replay.Cursor) -> None:
        missed = await replay.missed(self.principal.user_id, endpoint_ids, cursor, settings.WS_QUEUE_SIZE)
        forget_after = asyncio.get_running_loop().time() + REPLAY_DEDUPE_SECONDS
        self.outbox.note_dropped(missed.skipped)
        for message in missed.messages:
            key = replay.message_key(message)
            if key is not None:
                self.replayed[key] = forget_after
            self.outbox.put(message)

    async def _unsubscribe(self, endpoints: list[str]) -> None:
        self.explicit.difference_update(endpoints)
        if WILDCARD in endpoints and self.wildcard:
            self.wildcard = False
            await self._group_discard(user_group(self.principal.user_id))
        if not self.wildcard:
            for endpoint_id in sorted(self.joined - self.explicit):
                await self._leave(endpoint_id)
        self.outbox.put(self._subscribed())

    def _subscribed(self) -> dict[str, Any]:
        current = set(self.explicit)
        if self.wildcard:
            current.add(WILDCARD)
        return envelope("subscribed", endpoints=sorted(current))

    # Groups

    async def _group_add(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def _group_discard(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined.discard(group)

    async def _join(self, endpoint_id: str) -> None:
        if endpoint_id not in self.joined:
            await self._group_add(endpoint_group(endpoint_id))
            self.joined.add(endpoint_id)

    async def _leave(self, endpoint_id: str) -> None:
        if endpoint_id in self.joined:
            self.joined.discard(endpoint_id)
            await self._group_discard(endpoint_group(endpoint_id))

    # Channel-layer messages for the client: queue the envelope as it is.

    async def event_received(self, event: dict) -> None:
        self._forward(event)

    async def event_retrying(self, event: dict) -> None:
        self._forward(event)

    async def event_delivered(self, event: dict) -> None:
        self._forward(event)

    async def event_failed(self, event: dict) -> None:
        self._forward(event)

    async def endpoint_status(self, event: dict) -> None:
        self._forward(event)

    async def alert_opened(self, event: dict) -> None:
        self._forward(event)

    async def alert_resolved(self, event: dict) -> None:
        self._forward(event)

    async def replay_progress(self, event: dict) -> None:
        self._forward(event)

    def _forward(self, event: dict[str, Any]) -> None:
        if self.closing:
            return
        message = event["message"]
        # A message already in this socket's queue when it left the group.
        if (message.get("data") or {}).get("endpoint") not in self.joined:
            return
        key = replay.message_key(message)
        if key is not None and self.replayed.pop(key, None) is not None:
            return
        self.outbox.put(message, event.get("text"))

    # Internal channel-layer messages (realtime.internal): acted on, never sent.

    async def endpoint_created(self, event: dict) -> None:
        endpoint_id = event["message"]["endpoint"]
        if not self.wildcard or self.closing or endpoint_id in self.joined:
            return
        await self._join(endpoint_id)
        # Its first webhooks may have been stored and published before the
        # join: send what the database has, and let the replay dedupe drop
        # the live copies of anything published after the join.
        await self._replay([endpoint_id], replay.FROM_THE_START)

    async def endpoint_deleted(self, event: dict) -> None:
        endpoint_id = event["message"]["endpoint"]
        self.explicit.discard(endpoint_id)
        await self._leave(endpoint_id)

    async def apikey_revoked(self, event: dict) -> None:
        await self._close(CLOSE_UNAUTHORIZED)

    async def session_ended(self, event: dict) -> None:
        await self._close(CLOSE_UNAUTHORIZED)

    async def password_changed(self, event: dict) -> None:
        # Every session of the user is signed out or, for the one that made
        # the change, moved to a new key: no socket's session holds any more.
        await self._close(CLOSE_UNAUTHORIZED)

    # Background tasks

    async def _send_loop(self) -> None:
        while True:
            message, text = await self.outbox.get()
            if self.closing:
                return
            try:
                await self.send(text_data=text if text is not None else json.dumps(message))
            except OSError:
                # The client went away mid-send (servers raise an OSError
                # subclass for that): the disconnect handler cleans up.
                return
            except Exception:
                if not self.closing:  # a send failing on a closed socket is expected
                    log.exception("could not send to a WebSocket; closing it")
                    await self._close(CLOSE_NORMAL)
                return

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        ping_every = settings.WS_PING_SECONDS
        next_ping = loop.time() + ping_every
        while not self.closing:
            now = loop.time()
            idle_deadline = self.last_heard + settings.WS_IDLE_SECONDS
            if now >= idle_deadline:
                await self._close(CLOSE_IDLE)
                return
            if now >= next_ping:
                next_ping = now + ping_every
                # Queued data already tells the client we are alive.
                if not len(self.outbox):
                    self.outbox.put(envelope("ping"))
                self._forget_replayed(now)
                try:
                    await connections.refresh(self.principal.user_id, self.channel_name)
                except Exception:  # a Redis blip: the next beat refreshes again
                    log.exception("could not refresh a connection slot")
            await asyncio.sleep(max(0.0, min(next_ping, idle_deadline) - loop.time()))

    def _forget_replayed(self, now: float) -> None:
        for key in [key for key, forget_after in self.replayed.items() if forget_after <= now]:
            del self.replayed[key]
