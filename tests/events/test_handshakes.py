"""Provider URL checks answered by ingest itself, against the real server."""

import base64
import hashlib
import hmac

import pytest
import requests

from endpoints.models import Endpoint
from events.models import Event, EventStatus

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "zoom-or-x-secret"


@pytest.fixture
def shaking(alice) -> Endpoint:
    # A destination that would be forwarded to, to prove handshakes never are.
    endpoint = Endpoint(owner=alice, name="hs", handshakes=True, destination_url="https://hooks.example.test/")
    endpoint.verification_secret = SECRET
    endpoint.save()
    return endpoint


def url(server, endpoint: Endpoint) -> str:
    return f"{server.url}/in/{endpoint.ingest_token}"


def the_stored_handshake(provider: str) -> Event:
    event = Event.objects.get()
    assert event.handshake == provider
    assert event.status == EventStatus.RECEIVED
    assert event.next_attempt_at is None  # never forwarded
    return event


def test_slack_url_verification_echoes_the_challenge(server, shaking):
    answer = requests.post(url(server, shaking), json={"token": "t", "challenge": "3eZbrw1aB", "type": "url_verification"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "3eZbrw1aB"}
    the_stored_handshake("slack")


def test_microsoft_graph_validation_token_is_echoed_as_plain_text(server, shaking):
    answer = requests.post(url(server, shaking) + "?validationToken=Validation%3A+Testing+client+application", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text == "Validation: Testing client application"
    the_stored_handshake("graph")


def test_zoom_url_validation_answers_the_hmac_of_the_plain_token(server, shaking):
    body = {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}}
    answer = requests.post(url(server, shaking), json=body, timeout=10)
    expected = hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert answer.json() == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}
    the_stored_handshake("zoom")


def test_dropbox_challenge_is_echoed(server, shaking):
    answer = requests.get(url(server, shaking) + "?challenge=d7e2a1", timeout=10)
    assert answer.status_code == 200
    assert answer.text == "d7e2a1"
    assert answer.headers["x-content-type-options"] == "nosniff"
    the_stored_handshake("dropbox")


def test_x_crc_answers_the_base64_hmac_of_the_token(server, shaking):
    answer = requests.get(url(server, shaking) + "?crc_token=abc123", timeout=10)
    digest = base64.b64encode(hmac.new(SECRET.encode(), b"abc123", hashlib.sha256).digest()).decode()
    assert answer.json() == {"response_token": f"sha256={digest}"}
    the_stored_handshake("twitter")


def test_a_check_that_needs_a_secret_gets_a_clear_400_without_one(server, alice):
    endpoint = Endpoint.objects.create(owner=alice, name="no secret", handshakes=True)
    answer = requests.get(url(server, endpoint) + "?crc_token=abc123", timeout=10)
    assert answer.status_code == 400
    assert "verification secret" in answer.json()["detail"]


def test_with_handshakes_off_the_check_is_an_ordinary_webhook(server, alice):
    endpoint = Endpoint.objects.create(owner=alice, name="plain", destination_url="https://hooks.example.test/")
    answer = requests.post(url(server, endpoint), json={"type": "url_verification", "challenge": "x"}, timeout=10)
    assert "event_id" in answer.json()
    event = Event.objects.get()
    assert event.handshake == ""
    assert event.next_attempt_at is not None  # forwarded like any event


def test_an_ordinary_webhook_still_flows_when_handshakes_are_on(server, shaking):
    answer = requests.post(url(server, shaking), json={"type": "message", "text": "hi"}, timeout=10)
    assert "event_id" in answer.json()
    assert Event.objects.get().next_attempt_at is not None
