"""Helpers for the `/v1/ws` tests: real Redis layer, real PostgreSQL, no mocks."""

import asyncio
from datetime import datetime, timedelta

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from config.asgi import application
from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import ApiKey, Endpoint, endpoint_group
from events.models import Event
from realtime import envelope
from realtime.publish import publish


def jwt_for(user, lifetime: timedelta | None = None) -> str:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


class Sockets:
    """Opens communicators against the real ASGI app and always disconnects them."""

    def __init__(self) -> None:
        self.open_ones: list[WebsocketCommunicator] = []

    async def connect(self, token: str | None = None, headers=None, app=application) -> WebsocketCommunicator:
        path = f"/v1/ws?token={token}" if token else "/v1/ws"
        ws = WebsocketCommunicator(app, path, headers=headers or [])
        self.open_ones.append(ws)
        connected, _ = await ws.connect(timeout=3)
        assert connected, "refusals accept first, then close with a code"
        return ws

    async def disconnect(self, ws: WebsocketCommunicator) -> None:
        self.open_ones.remove(ws)
        await ws.disconnect(timeout=3)

    async def disconnect_all(self) -> None:
        while self.open_ones:
            await self.disconnect(self.open_ones[-1])


async def expect_close(ws: WebsocketCommunicator, code: int, timeout: float = 2) -> None:
    output = await ws.receive_output(timeout)
    assert output["type"] == "websocket.close", output
    assert output.get("code") == code


async def subscribe(ws: WebsocketCommunicator, endpoints: list[str], since: str | None = None) -> dict:
    request: dict = {"type": "subscribe", "endpoints": endpoints}
    if since is not None:
        request["since"] = since
    await ws.send_json_to(request)
    answer = await ws.receive_json_from(timeout=3)
    assert answer["type"] == "subscribed", answer
    return answer


@database_sync_to_async
def create_endpoint(owner, name: str = "Stripe") -> Endpoint:
    return Endpoint.objects.create(owner=owner, name=name)


@database_sync_to_async
def delete_endpoint(endpoint: Endpoint) -> None:
    endpoint.delete()


@database_sync_to_async
def create_event(endpoint: Endpoint, received_at: datetime | None = None) -> Event:
    event = Event.objects.create(
        endpoint=endpoint, method="POST", body=b"{}", size=2, received_at=received_at or timezone.now()
    )
    event.endpoint = endpoint
    return event


@database_sync_to_async
def create_attempt(event: Event, attempt: int, outcome: str, next_retry_at: datetime | None = None):
    return DeliveryAttempt.objects.create(
        event=event,
        endpoint=event.endpoint,
        attempt=attempt,
        url="https://example.test/hook",
        status_code=200 if outcome == Outcome.SUCCESS else 500,
        outcome=outcome,
        duration_ms=12,
        started_at=timezone.now(),
        next_retry_at=next_retry_at,
    )


@database_sync_to_async
def issue_key(owner) -> tuple[ApiKey, str]:
    return ApiKey.issue(owner, "ci")


async def announce_event(event: Event) -> dict:
    """What ingest does after its commit."""
    message = envelope.event_received(event.summary())
    await publish(endpoint_group(event.endpoint.public_id), message)
    return message


async def announce_attempt(attempt: DeliveryAttempt) -> dict:
    """What deliveries.recording.record_attempts does after its commit."""
    message = attempt.message()
    await publish(endpoint_group(attempt.endpoint.public_id), message)
    return message


async def wait_for(predicate, timeout: float = 3.0) -> None:
    """A bounded poll for real async work."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


async def receive_until(ws: WebsocketCommunicator, wanted, limit: int = 100) -> dict:
    """The first message for which wanted(message) holds, skipping others."""
    for _ in range(limit):
        message = await ws.receive_json_from()
        if wanted(message):
            return message
    raise AssertionError(f"no wanted message among {limit}")
