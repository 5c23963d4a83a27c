"""`POST /api/v1/test-sessions/`: a throwaway URL without an account, on the real server."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from endpoints.models import Endpoint
from events.models import Event, EventStatus
from testsessions.models import TestSession

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_opens_a_session_without_credentials(client) -> None:
    answer = client.post("/api/v1/test-sessions/")

    assert answer.status_code == 201
    payload = answer.json()
    assert payload["id"].startswith("ts_")
    assert payload["ws_url"] == f"/v1/ws/test/{payload['id']}"
    session = TestSession.objects.select_related("endpoint").get(public_id=payload["id"])
    assert payload["ingest_url"].endswith(f"/in/{session.endpoint.ingest_token}")
    expires_at = parse_datetime(payload["expires_at"])
    assert abs(expires_at - (timezone.now() + timedelta(hours=24))) < timedelta(seconds=30)
    assert session.endpoint.owner is None
    assert session.endpoint.destination_url is None


def test_a_bad_authorization_header_does_not_stop_an_anonymous_session(client) -> None:
    answer = client.post("/api/v1/test-sessions/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert answer.status_code == 201


def test_its_ingest_url_stores_like_an_inbox_and_never_forwards(server) -> None:
    session = requests.post(f"{server.url}/api/v1/test-sessions/", timeout=10).json()
    body = b"\x00\xffraw bytes"

    answer = requests.put(f"{session['ingest_url']}/hooks/a?x=1", data=body, headers={"X-Test": "1"}, timeout=10)

    assert answer.status_code == 200
    assert answer.json()["received"] is True
    event = Event.objects.get(public_id=answer.json()["event_id"])
    assert event.endpoint.test_session.public_id == session["id"]
    assert (event.method, event.path, event.query, event.body_bytes) == ("PUT", "hooks/a", "x=1", body)
    assert event.status == EventStatus.RECEIVED
    assert event.next_attempt_at is None


def test_it_refuses_a_source_ip_past_its_hourly_allowance_with_retry_after(client, settings) -> None:
    settings.TEST_SESSIONS_PER_IP_PER_HOUR = 2
    ip = "203.0.113.7"  # of its own, so other tests' sessions do not count
    assert client.post("/api/v1/test-sessions/", REMOTE_ADDR=ip).status_code == 201
    assert client.post("/api/v1/test-sessions/", REMOTE_ADDR=ip).status_code == 201

    refused = client.post("/api/v1/test-sessions/", REMOTE_ADDR=ip)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Too many test sessions" in refused.json()["detail"]
    assert TestSession.objects.filter(source_ip=ip).count() == 2
    assert client.post("/api/v1/test-sessions/", REMOTE_ADDR="203.0.113.8").status_code == 201


def test_its_hidden_endpoint_is_nobodys(client, alice) -> None:
    client.post("/api/v1/test-sessions/")
    client.force_login(alice)

    assert client.get("/api/v1/endpoints/").json()["count"] == 0
    assert Endpoint.objects.filter(owner=alice).count() == 0
