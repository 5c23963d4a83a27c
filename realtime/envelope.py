"""The one builder of realtime messages.

Every publisher (ingest, delivery worker, health monitor) builds messages
here and every consumer forwards them unchanged; the dashboard's JavaScript
reads the same field names. Shapes follow the public contract (README, "Live stream").
"""

from datetime import datetime
from typing import Any

CHANNEL_OF_TYPE = {
    "subscribed": "control",
    "dropped": "control",
    "error": "control",
    "ping": "control",
    "event.received": "events",
    "event.retrying": "deliveries",
    "event.delivered": "deliveries",
    "event.failed": "deliveries",
    "endpoint.status": "endpoints",
    "alert.opened": "alerts",
    "alert.resolved": "alerts",
    "replay.progress": "replays",
    "event": "test",
}


def envelope(type_: str, data: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"type": type_, "channel": CHANNEL_OF_TYPE[type_]}
    if data is not None:
        message["data"] = data
    message.update(fields)
    return message


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def event_received(event_summary: dict[str, Any]) -> dict[str, Any]:
    return envelope("event.received", event_summary)


def delivery_outcome(
    type_: str,
    *,
    event_id: str,
    endpoint_id: str,
    attempt: int,
    status_code: int | None,
    duration_ms: int,
    outcome: str,
    delivery_id: str,
    next_retry_at: datetime | None = None,
    error: str = "",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "event_id": event_id,
        "endpoint": endpoint_id,
        "attempt": attempt,
        "status_code": status_code,
        "duration_ms": duration_ms,
        "outcome": outcome,
        "delivery_id": delivery_id,
        "error": error,
    }
    if type_ == "event.retrying":
        data["next_retry_at"] = _iso(next_retry_at)
    return envelope(type_, data)


def endpoint_status(endpoint_id: str, health: str, previous: str) -> dict[str, Any]:
    return envelope("endpoint.status", {"endpoint": endpoint_id, "health": health, "previous": previous})


def alert_changed(type_: str, alert: dict[str, Any]) -> dict[str, Any]:
    """`alert.opened` / `alert.resolved`; `alert` is Alert.as_data()."""
    return envelope(type_, alert)


def test_event(request: dict[str, Any]) -> dict[str, Any]:
    """A request that reached an anonymous test session (`/v1/ws/test/<ts_id>`)."""
    return envelope("event", request)


def replay_progress(progress: dict[str, Any]) -> dict[str, Any]:
    """A bulk replay's state and counts: `{id, endpoint, state, total, done, failed}`."""
    return envelope("replay.progress", progress)
