"""Per-endpoint deduplication at ingest, against the real server and Redis."""

import hashlib
import hmac

import pytest
import requests
from django.conf import settings

from endpoints.models import DedupAction, Endpoint
from events.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b'{"type": "charge.succeeded", "amount": 1200}'


def deduplicating(owner, action: str, window: int = 3600, **fields) -> Endpoint:
    return Endpoint.objects.create(
        owner=owner, name="dedup", dedup_window_seconds=window, dedup_action=action, **fields
    )


def post(server, endpoint: Endpoint, body: bytes = BODY, headers: dict[str, str] | None = None, path: str = ""):
    return requests.post(f"{server.url}/in/{endpoint.ingest_token}{path}", data=body, headers=headers or {}, timeout=10)


@pytest.mark.parametrize(
    "header",
    ["webhook-id", "X-GitHub-Delivery", "X-Shopify-Webhook-Id", "PayPal-Transmission-Id"],
)
def test_drop_answers_a_repeated_delivery_id_with_the_original_event_and_stores_nothing(server, alice, header):
    endpoint = deduplicating(alice, DedupAction.DROP)
    first = post(server, endpoint, b'{"attempt": 1}', {header: "delivery-77"})
    # A retry of the same delivery: the provider may even change the body.
    again = post(server, endpoint, b'{"attempt": 2}', {header: "delivery-77"})
    assert first.status_code == again.status_code == 200
    original = first.json()["event_id"]
    assert again.json() == {"received": True, "event_id": original, "duplicate": True}
    assert list(Event.objects.values_list("public_id", flat=True)) == [original]


def test_another_delivery_id_is_not_a_duplicate(server, alice):
    endpoint = deduplicating(alice, DedupAction.DROP)
    post(server, endpoint, BODY, {"X-GitHub-Delivery": "one"})
    assert "duplicate" not in post(server, endpoint, BODY, {"X-GitHub-Delivery": "two"}).json()
    assert Event.objects.count() == 2


def test_without_a_delivery_id_the_body_hash_is_the_key(server, alice):
    endpoint = deduplicating(alice, DedupAction.DROP)
    first = post(server, endpoint).json()["event_id"]
    assert post(server, endpoint).json() == {"received": True, "event_id": first, "duplicate": True}
    assert "duplicate" not in post(server, endpoint, BODY + b" ").json()
    assert Event.objects.count() == 2


def test_a_stripe_event_id_in_the_body_is_the_key(server, alice):
    endpoint = deduplicating(alice, DedupAction.DROP)
    first = post(server, endpoint, b'{"id": "evt_1Abc", "created": 1}').json()["event_id"]
    # Stripe's retry of the same event, with a body that differs in detail.
    again = post(server, endpoint, b'{"id": "evt_1Abc", "created": 1, "request": null}').json()
    assert again == {"received": True, "event_id": first, "duplicate": True}


def test_flag_stores_and_forwards_the_duplicate_pointing_at_the_original(server, worker, alice, receiver):
    endpoint = deduplicating(alice, DedupAction.FLAG, destination_url=receiver.url)
    first = post(server, endpoint, BODY, {"webhook-id": "msg_1"}).json()["event_id"]
    second = post(server, endpoint, BODY, {"webhook-id": "msg_1"}).json()
    assert second["event_id"] != first and "duplicate" not in second
    assert Event.objects.get(public_id=second["event_id"]).duplicate_of == first
    assert Event.objects.get(public_id=first).duplicate_of is None
    assert len(receiver.wait_for(2)) == 2


def test_endpoints_deduplicate_separately(server, alice):
    one = deduplicating(alice, DedupAction.DROP)
    two = deduplicating(alice, DedupAction.DROP)
    post(server, one)
    assert "duplicate" not in post(server, two).json()


def test_an_endpoint_without_dedup_stores_every_copy(server, alice):
    endpoint = Endpoint.objects.create(owner=alice, name="plain")
    post(server, endpoint)
    post(server, endpoint)
    assert Event.objects.count() == 2


def test_the_claim_expires_with_the_window(server, alice, redis_client):
    endpoint = deduplicating(alice, DedupAction.DROP, window=90)
    post(server, endpoint)
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    digest = hashlib.sha256(f"sha256:{hashlib.sha256(BODY).hexdigest()}".encode()).hexdigest()
    assert 85 <= redis_client.ttl(f"{prefix}:dedup:{endpoint.pk}:{digest}") <= 90


def test_a_request_that_could_not_be_stored_does_not_make_its_retry_a_duplicate(server, alice):
    endpoint = deduplicating(alice, DedupAction.DROP)
    # PostgreSQL refuses a NUL byte in a text column: the first copy is a 400.
    refused = post(server, endpoint, BODY, path="/bad%00path")
    assert refused.status_code == 400
    retried = post(server, endpoint, BODY)
    assert retried.status_code == 200 and "duplicate" not in retried.json()
    assert Event.objects.count() == 1


def test_a_request_with_a_bad_signature_claims_no_delivery_id(server, alice):
    endpoint = Endpoint(
        owner=alice, name="signed", dedup_window_seconds=3600, dedup_action=DedupAction.DROP,
        verification_scheme="github", verification_mode="flag",
    )
    endpoint.verification_secret = "s3cret"
    endpoint.save()
    forged = post(server, endpoint, BODY, {"X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": "sha256=00"})
    assert forged.status_code == 200
    good = "sha256=" + hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    genuine = post(server, endpoint, BODY, {"X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": good})
    assert "duplicate" not in genuine.json()
    assert Event.objects.count() == 2
