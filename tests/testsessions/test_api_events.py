"""`GET /api/v1/test-sessions/{id}/events/`: the id is the capability."""

import base64
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from events.models import Event
from testsessions.models import TestSession

pytestmark = pytest.mark.django_db


def store(session: TestSession, body: bytes, **fields) -> Event:
    return Event.objects.create(
        endpoint=session.endpoint, method="POST", body=body, size=len(body), received_at=timezone.now(), **fields
    )


def test_it_lists_requests_newest_first_with_their_bodies(client) -> None:
    session = TestSession.open("127.0.0.1")
    text = store(session, b'{"a": 1}', path="x", query="q=1", headers=[["content-type", "application/json"]])
    binary = store(session, b"\xff\x00")

    answer = client.get(f"/api/v1/test-sessions/{session.public_id}/events/")

    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [item["id"] for item in results] == [binary.public_id, text.public_id]
    assert results[1] | {"received_at": None} == {
        "id": text.public_id, "method": "POST", "path": "x", "query": "q=1",
        "headers": [["content-type", "application/json"]], "body": '{"a": 1}', "body_encoding": "text",
        "size": 8, "event_type": None, "sha256": "", "source_ip": None, "received_at": None,
    }
    assert results[0]["body_encoding"] == "base64"
    assert base64.b64decode(results[0]["body"]) == b"\xff\x00"


def test_it_never_shows_another_endpoints_events(client, alice) -> None:
    session = TestSession.open(None)
    other = TestSession.open(None)
    store(other, b"not yours")

    assert client.get(f"/api/v1/test-sessions/{session.public_id}/events/").json()["results"] == []


@pytest.mark.parametrize("session_id", ["ts_doesnotexist000000000000", "ep_abc", "ts_"])
def test_it_answers_404_for_an_unknown_session(client, session_id: str) -> None:
    answer = client.get(f"/api/v1/test-sessions/{session_id}/events/")
    assert answer.status_code == 404
    assert answer.json()["detail"]


def test_it_answers_404_once_the_session_expired(client) -> None:
    session = TestSession.open(None)
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1)):
        answer = client.get(f"/api/v1/test-sessions/{session.public_id}/events/")
    assert answer.status_code == 404
