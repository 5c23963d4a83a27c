"""Alerts are streamed as `alert.opened` / `alert.resolved` (channel `alerts`)."""

import pytest
from channels.db import database_sync_to_async

from monitoring.models import Alert, AlertType
from tests.realtime.support import create_endpoint, receive_until, subscribe

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def raise_alert(endpoint, type_: str) -> Alert:
    return Alert.raise_for(endpoint, type_, "3 of 3 attempts timed out")


@database_sync_to_async
def resolve(alert: Alert) -> bool:
    return alert.resolve()


async def test_subscribers_see_an_alert_open_and_resolve(sockets, alice, alice_token) -> None:
    endpoint = await create_endpoint(alice)
    ws = await sockets.connect(alice_token)
    await subscribe(ws, [endpoint.public_id])
    alert = await raise_alert(endpoint, AlertType.TIMEOUTS)
    opened = await receive_until(ws, lambda m: m["type"] == "alert.opened")
    assert opened == {
        "type": "alert.opened",
        "channel": "alerts",
        "data": {
            "id": alert.public_id, "endpoint": endpoint.public_id, "type": "timeouts", "state": "open",
            "opened_at": alert.opened_at.isoformat(), "resolved_at": None,
            "detail": "3 of 3 attempts timed out", "count": 1,
        },
    }
    await resolve(alert)
    resolved = await receive_until(ws, lambda m: m["type"] == "alert.resolved")
    assert resolved["channel"] == "alerts"
    assert resolved["data"]["state"] == "resolved"
    assert resolved["data"]["resolved_at"] is not None


async def test_another_users_alerts_never_reach_the_socket(sockets, alice, bob, alice_token) -> None:
    mine = await create_endpoint(alice)
    theirs = await create_endpoint(bob, "Theirs")
    ws = await sockets.connect(alice_token)
    await subscribe(ws, ["*"])
    await raise_alert(theirs, AlertType.INTEGRITY)
    await raise_alert(mine, AlertType.DUPLICATES)
    message = await receive_until(ws, lambda m: m["channel"] == "alerts")
    assert message["data"]["endpoint"] == mine.public_id
    assert await ws.receive_nothing(timeout=0.5)


async def test_a_repeat_is_counted_without_a_second_announcement(sockets, alice, alice_token) -> None:
    endpoint = await create_endpoint(alice)
    ws = await sockets.connect(alice_token)
    await subscribe(ws, [endpoint.public_id])
    await raise_alert(endpoint, AlertType.TIMEOUTS)
    await receive_until(ws, lambda m: m["type"] == "alert.opened")
    again = await raise_alert(endpoint, AlertType.TIMEOUTS)
    assert again.count == 2
    assert await ws.receive_nothing(timeout=0.5)
