"""`POST /api/v1/test-sessions/{id}/claim/`: a session becomes an inbox of the caller."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from endpoints.models import Endpoint
from events.models import Event
from testsessions.models import TestSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def session() -> TestSession:
    session = TestSession.open("127.0.0.1")
    Event.objects.create(endpoint=session.endpoint, method="POST", body=b"{}", size=2, received_at=timezone.now())
    return session


def claim(client, session: TestSession):
    return client.post(f"/api/v1/test-sessions/{session.public_id}/claim/")


def test_it_turns_the_session_into_an_inbox_of_the_caller_with_its_events(alice_client, alice, session) -> None:
    answer = claim(alice_client, session)

    assert answer.status_code == 200
    endpoint = Endpoint.objects.get(owner=alice)
    assert answer.json()["id"] == endpoint.public_id
    assert answer.json()["destination_url"] is None
    assert answer.json()["ingest_url"] == session.endpoint.ingest_url
    assert endpoint.rate_limit is None
    listed = alice_client.get("/api/v1/events/").json()["results"]
    assert [item["endpoint"] for item in listed] == [endpoint.public_id]
    assert not TestSession.objects.filter(pk=session.pk).exists()


def test_the_public_capability_ends_with_the_claim(alice_client, client, session) -> None:
    claim(alice_client, session)

    assert client.get(f"/api/v1/test-sessions/{session.public_id}/events/").status_code == 404
    assert claim(alice_client, session).status_code == 404


def test_it_needs_an_account(client, session) -> None:
    assert claim(client, session).status_code == 401
    assert Endpoint.objects.get(pk=session.endpoint_id).owner is None


def test_a_claimed_session_is_invisible_to_others(alice_client, client, bob, session) -> None:
    claim(alice_client, session)
    client.force_login(bob)

    assert client.get("/api/v1/events/").json()["results"] == []
    assert claim(client, session).status_code == 404


def test_an_expired_session_cannot_be_claimed(alice_client, alice, session) -> None:
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert claim(alice_client, session).status_code == 404
    assert not Endpoint.objects.filter(owner=alice).exists()
