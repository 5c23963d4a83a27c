"""What ingest learns about a request before storing it.

`inspect` fills an unsaved Event's `event_type`, `sha256`, `signature` and
`handshake`, and says whether ingest answers it itself
(a provider handshake, a rejected signature) and under which key it is
deduplicated. It is CPU only: the endpoint row was loaded with the batch.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import orjson

from events import handshakes, verification
from events.answers import Answer, json_answer
from events.models import Event, EventStatus

# Parsing JSON runs on the ingest event loop; a body past this is not read
# for its type or id (a 10 MiB body would stall every request of the process).
JSON_PARSE_LIMIT = 1024 * 1024

TYPE_HEADERS = ("x-github-event", "x-shopify-topic", "x-event-key")
TYPE_FIELDS = ("type", "event", "topic")
DELIVERY_ID_HEADERS = ("webhook-id", "x-github-delivery", "x-shopify-webhook-id", "paypal-transmission-id")

# The columns inspection adds to ingest's INSERT.
EVENT_FIELDS = ("event_type", "sha256", "signature", "duplicate_of", "handshake")
ENDPOINT_FIELDS = {
    "verification_scheme", "verification_mode", "verification_secret_encrypted", "verification_options",
    "dedup_window_seconds", "dedup_action", "handshakes",
}


@dataclass
class Inspection:
    answer: Answer | None = None  # ingest answers this instead of its usual answer
    forwards: bool = True
    dedup_key: str = ""
    # What was parsed on the way, for monitoring to reuse after the commit:
    # first value by header name, and the body's document (None when it was
    # not read as JSON).
    headers: verification.Headers | None = None
    document: Any = None


def parse_json(body: bytes) -> Any:
    if not body or len(body) > JSON_PARSE_LIMIT or body.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return load_json(body)
    except ValueError:
        return None


def load_json(body: bytes) -> Any:
    """The document; ValueError when it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:  # a ValueError
        # What orjson refuses and Python's reader takes: NaN, integers past 64 bits.
        return json.loads(body)


def event_type_of(headers: verification.Headers, document: Any) -> str | None:
    for name in TYPE_HEADERS:
        if value := headers.get(name):
            return value[:255]
    if isinstance(document, dict):
        for field in TYPE_FIELDS:
            value = document.get(field)
            if isinstance(value, str) and value:
                return value[:255]
    return None


def dedup_key(headers: verification.Headers, document: Any, sha256: str) -> str:
    """The provider's delivery id when it sends one, else the body's hash."""
    for name in DELIVERY_ID_HEADERS:
        if value := headers.get(name):
            return f"{name}:{value}"
    if isinstance(document, dict):
        stripe_id = document.get("id")
        if isinstance(stripe_id, str) and ("stripe-signature" in headers or stripe_id.startswith("evt_")):
            return f"stripe:{stripe_id}"
    return f"sha256:{sha256}"


def facts(headers: list[list[str]], body: bytes) -> dict[str, Any]:
    """`event_type` and `sha256` of an event made outside ingest (an edited
    replay), so it is typed and hashed like the rest."""
    sha256 = hashlib.sha256(body).hexdigest()
    event_type = event_type_of(verification.first_values(headers), parse_json(body))
    return {"event_type": event_type, "sha256": sha256}


def _hold(event: Event, status: str) -> None:
    event.status = status
    event.next_attempt_at = None
    event.enqueued_at = None


def inspect(event: Event, endpoint, now: float) -> Inspection:
    body = event.body
    headers = verification.first_values(event.headers)
    event.sha256 = hashlib.sha256(body).hexdigest()
    document = parse_json(body)
    event.event_type = event_type_of(headers, document)
    event.signature = verification.verify(endpoint, headers, body, now)
    if endpoint.handshakes:
        shake = handshakes.detect(event.method, event.query, document, verification.secret_of(endpoint))
        if shake is not None:
            # Answered before any signature rule: Graph, Dropbox and X send
            # their checks unsigned, and the answer reveals nothing.
            event.handshake = shake.provider
            _hold(event, EventStatus.RECEIVED)
            return Inspection(answer=shake.answer, forwards=False, headers=headers, document=document)
    verdict = event.signature["verdict"] if event.signature else verification.UNCHECKED
    if endpoint.verification_mode == "reject" and event.signature and verdict != verification.VALID:
        _hold(event, EventStatus.REJECTED)
        detail = f"Signature check failed ({event.signature['scheme']}): {event.signature['detail']}."
        return Inspection(answer=json_answer(401, {"detail": detail}), forwards=False, headers=headers, document=document)
    key = ""
    # A request with a bad signature never claims a delivery id: a forger
    # could otherwise make the genuine delivery look like a duplicate.
    if endpoint.dedup_window_seconds and verdict in (verification.VALID, verification.UNCHECKED):
        key = dedup_key(headers, document, event.sha256)
    return Inspection(dedup_key=key, headers=headers, document=document)
