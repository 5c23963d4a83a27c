"""Inbound signature verification against the real server, signed as each provider documents."""

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
import time_machine
import websockets

from endpoints.models import ApiKey, Endpoint
from events.models import Event, EventStatus
from tests.support import providers
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b'{"id": "evt_1Nx", "type": "charge.succeeded", "amount": 1200}'
SECRET = "whsec_c2VjcmV0LWZvci10ZXN0cy0xMjM0NTY3OA=="
WRONG = "whsec_d3Jvbmctc2VjcmV0LWZvci10ZXN0cy0xMjM0"
STALE = timedelta(minutes=10)


def verifying(owner, scheme: str, mode: str = "flag", **options) -> Endpoint:
    endpoint = Endpoint(
        owner=owner, name=scheme, verification_scheme=scheme, verification_mode=mode, verification_options=options
    )
    endpoint.verification_secret = SECRET
    endpoint.save()
    return endpoint


def post(server, endpoint: Endpoint, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        f"{server.url}/in/{endpoint.ingest_token}", data=body,
        headers={"Content-Type": "application/json", **headers}, timeout=10,
    )


def verdict_of(server, endpoint: Endpoint, body: bytes, headers: dict[str, str]) -> dict:
    answer = post(server, endpoint, body, headers)
    assert answer.status_code == 200, answer.text
    return Event.objects.get(public_id=answer.json()["event_id"]).signature


def signed_now(scheme: str, secret: str, body: bytes) -> dict[str, str]:
    if scheme == "stripe":
        return providers.stripe_headers(secret, body)
    if scheme == "github":
        return providers.github_headers(secret, body)
    if scheme == "shopify":
        return providers.shopify_headers(secret, body)
    if scheme == "slack":
        return providers.slack_headers(secret, body)
    return providers.standard_headers(secret, body)


SCHEMES = ["stripe", "github", "shopify", "slack", "standard"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_request_signed_as_the_provider_documents_is_valid(server, alice, scheme):
    endpoint = verifying(alice, scheme)
    signature = verdict_of(server, endpoint, BODY, signed_now(scheme, SECRET, BODY))
    assert signature["scheme"] == scheme
    assert signature["verdict"] == "valid", signature


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_tampered_body_is_invalid(server, alice, scheme):
    endpoint = verifying(alice, scheme)
    headers = signed_now(scheme, SECRET, BODY)
    signature = verdict_of(server, endpoint, BODY.replace(b"1200", b"9900"), headers)
    assert signature["verdict"] == "invalid"
    assert "match" in signature["detail"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_signature_made_with_another_secret_is_invalid(server, alice, scheme):
    endpoint = verifying(alice, scheme)
    assert verdict_of(server, endpoint, BODY, signed_now(scheme, WRONG, BODY))["verdict"] == "invalid"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_request_without_the_signature_header_is_missing(server, alice, scheme):
    endpoint = verifying(alice, scheme)
    signature = verdict_of(server, endpoint, BODY, {})
    assert signature["verdict"] == "missing"
    assert signature["detail"].startswith("no ")


@pytest.mark.parametrize("scheme", ["stripe", "slack", "standard"])
def test_a_timestamp_older_than_five_minutes_is_invalid(server, alice, scheme):
    endpoint = verifying(alice, scheme)
    # The provider signed it ten minutes ago (a replayed capture, say).
    with time_machine.travel(datetime.now(tz=timezone.utc) - STALE, tick=False):
        headers = signed_now(scheme, SECRET, BODY)
    signature = verdict_of(server, endpoint, BODY, headers)
    assert signature["verdict"] == "invalid"
    assert "tolerance 300 s" in signature["detail"]


def test_a_timestamp_four_minutes_old_is_still_valid(server, alice):
    endpoint = verifying(alice, "stripe")
    headers = providers.stripe_headers(SECRET, BODY, at=int(time.time()) - 240)
    assert verdict_of(server, endpoint, BODY, headers)["verdict"] == "valid"


@pytest.mark.parametrize(
    "algorithm, encoding, prefix",
    [("sha256", "hex", "sha256="), ("sha1", "base64", ""), ("sha512", "hex", "")],
)
def test_the_generic_hmac_scheme_follows_its_header_algorithm_encoding_and_prefix(
    server, alice, algorithm, encoding, prefix
):
    endpoint = verifying(
        alice, "hmac", header="X-Signature", algorithm=algorithm, encoding=encoding, prefix=prefix
    )
    good = providers.hmac_header(SECRET, BODY, algorithm, encoding, prefix)
    assert verdict_of(server, endpoint, BODY, {"X-Signature": good})["verdict"] == "valid"
    bad = providers.hmac_header(WRONG, BODY, algorithm, encoding, prefix)
    assert verdict_of(server, endpoint, BODY, {"X-Signature": bad})["verdict"] == "invalid"
    assert verdict_of(server, endpoint, BODY, {})["verdict"] == "missing"


def test_reject_mode_answers_401_and_stores_the_request_as_rejected(server, alice):
    endpoint = verifying(alice, "github", mode="reject")
    endpoint.destination_url = "https://hooks.example.test/github"
    endpoint.save()
    answer = post(server, endpoint, BODY, providers.github_headers(WRONG, BODY))
    assert answer.status_code == 401
    assert answer.json() == {"detail": "Signature check failed (github): X-Hub-Signature-256 does not match the body."}
    event = Event.objects.get()
    assert event.status == EventStatus.REJECTED
    assert event.next_attempt_at is None  # never forwarded
    assert event.body_bytes == BODY  # kept to inspect


def test_reject_mode_lets_a_valid_request_through_and_forwards_only_it(server, worker, alice, receiver):
    endpoint = verifying(alice, "shopify", mode="reject")
    endpoint.destination_url = receiver.url
    endpoint.save()
    assert post(server, endpoint, BODY, providers.shopify_headers(WRONG, BODY)).status_code == 401
    good = post(server, endpoint, BODY, providers.shopify_headers(SECRET, BODY))
    assert good.status_code == 200
    received = receiver.wait_for(1)
    assert received[0].body == BODY
    wait_until(lambda: Event.objects.get(public_id=good.json()["event_id"]).status == EventStatus.DELIVERED,
               timeout=30, message="valid event delivered")
    assert len(receiver.requests) == 1
    assert Event.objects.filter(status=EventStatus.REJECTED).count() == 1


def test_flag_mode_stores_and_forwards_an_invalid_request(server, worker, alice, receiver):
    endpoint = verifying(alice, "slack", mode="flag")
    endpoint.destination_url = receiver.url
    endpoint.save()
    answer = post(server, endpoint, BODY, providers.slack_headers(WRONG, BODY))
    assert answer.status_code == 200
    assert receiver.wait_for(1)[0].body == BODY
    assert Event.objects.get().signature["verdict"] == "invalid"


def test_mode_off_checks_nothing(server, alice):
    endpoint = verifying(alice, "github", mode="off")
    answer = post(server, endpoint, BODY, providers.github_headers(WRONG, BODY))
    assert answer.status_code == 200
    assert Event.objects.get().signature is None


def test_the_verdict_is_streamed_with_the_event_summary(server, alice):
    endpoint = verifying(alice, "github")
    _, key = ApiKey.issue(alice, "stream")

    async def first_event() -> dict:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/v1/ws?token={key}") as ws:
            await ws.send(json.dumps({"type": "subscribe", "endpoints": [endpoint.public_id]}))
            async with asyncio.timeout(20):
                answer = json.loads(await ws.recv())
                while answer["type"] != "subscribed":
                    answer = json.loads(await ws.recv())
                await asyncio.to_thread(post, server, endpoint, BODY, providers.github_headers(SECRET, BODY))
                while True:
                    message = json.loads(await ws.recv())
                    if message["type"] == "event.received":
                        return message["data"]

    summary = asyncio.run(first_event())
    assert summary["signature"] == {"scheme": "github", "verdict": "valid", "detail": "X-Hub-Signature-256 matches"}
    assert summary["event_type"] == "push"
