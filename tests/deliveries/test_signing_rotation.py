"""Signing secret rotation: both signatures during the overlap, verified by the Standard Webhooks library."""

import time
from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from deliveries.signing import signature_header
from endpoints.models import Endpoint

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b'{"type": "invoice.paid"}'


def signed(endpoint: Endpoint, msg_id: str = "evt_rot") -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(endpoint, msg_id, timestamp, BODY),
    }


def test_during_the_overlap_either_secret_verifies(alice):
    endpoint = Endpoint.objects.create(owner=alice, name="rot", rotation_overlap=3600)
    old = endpoint.signing_secret
    endpoint.rotate_signing_secret()
    headers = signed(endpoint)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(endpoint.signing_secret).verify(BODY, headers)


def test_after_the_overlap_only_the_new_secret_signs(alice):
    endpoint = Endpoint.objects.create(owner=alice, name="rot", rotation_overlap=3600)
    old = endpoint.signing_secret
    endpoint.rotate_signing_secret()
    with time_machine.travel(timezone.now() + timedelta(seconds=3601), tick=False):
        endpoint.refresh_from_db()
        headers = signed(endpoint)
        assert len(headers["webhook-signature"].split(" ")) == 1
        Webhook(endpoint.signing_secret).verify(BODY, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(BODY, headers)


def test_a_second_rotation_replaces_the_previous_secret(alice):
    endpoint = Endpoint.objects.create(owner=alice, name="rot")
    first = endpoint.signing_secret
    endpoint.rotate_signing_secret()
    second = endpoint.signing_secret
    endpoint.rotate_signing_secret()
    headers = signed(endpoint)
    Webhook(second).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(first).verify(BODY, headers)


def test_a_forwarded_request_carries_both_signatures_during_the_overlap(server, worker, alice, receiver):
    endpoint = Endpoint.objects.create(owner=alice, name="rot", destination_url=receiver.url)
    old = endpoint.signing_secret
    endpoint.rotate_signing_secret()
    requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=BODY, timeout=10)
    delivered = receiver.wait_for(1)[0]
    headers = {name: delivered.header(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(delivered.body, headers)
    Webhook(endpoint.signing_secret).verify(delivered.body, headers)
