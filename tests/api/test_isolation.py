"""Bob, signed in, sees nothing of Alice's and gets 404 (never 403) on her ids."""

from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone

import pytest
from rest_framework.response import Response
from rest_framework.test import APIClient

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import ApiKey, Endpoint
from events.models import Event, EventStatus

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=dt_timezone.utc)


@dataclass
class AliceWorld:
    key: ApiKey
    endpoint: Endpoint
    event: Event
    attempt: DeliveryAttempt


@pytest.fixture
def world(alice, bob) -> AliceWorld:
    key, _ = ApiKey.issue(alice, "alice's key")
    endpoint = Endpoint.objects.create(owner=alice, name="Alice's", destination_url="https://hooks.example.test/")
    event = Event.objects.create(endpoint=endpoint, method="POST", received_at=T0, status=EventStatus.FAILED)
    attempt = DeliveryAttempt.objects.create(
        event=event,
        endpoint=endpoint,
        attempt=1,
        url="https://hooks.example.test/",
        outcome=Outcome.TIMEOUT,
        started_at=T0,
    )
    # Bob has objects of his own, so "empty" is not just "nothing exists".
    ApiKey.issue(bob, "bob's key")
    bobs = Endpoint.objects.create(owner=bob, name="Bob's")
    Event.objects.create(endpoint=bobs, method="POST", received_at=T0)
    return AliceWorld(key, endpoint, event, attempt)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/api-keys/", "/api/v1/endpoints/", "/api/v1/events/", "/api/v1/events/?status=failed"],
)
def test_bobs_lists_hold_none_of_alices_objects(world: AliceWorld, bob_api: APIClient, url: str) -> None:
    r = bob_api.get(url)
    assert r.status_code == 200
    text = r.content.decode()
    for public_id in (world.key.public_id, world.endpoint.public_id, world.event.public_id):
        assert public_id not in text
    assert "Alice" not in text


ROUTES = [
    ("delete", "/api/v1/api-keys/{key}/"),
    ("get", "/api/v1/endpoints/{endpoint}/"),
    ("patch", "/api/v1/endpoints/{endpoint}/"),
    ("delete", "/api/v1/endpoints/{endpoint}/"),
    ("get", "/api/v1/events/?endpoint={endpoint}"),
    ("get", "/api/v1/events/{event}/"),
    ("get", "/api/v1/events/{event}/deliveries/"),
    ("post", "/api/v1/events/{event}/replay/"),
]


def attempt(client: APIClient, method: str, url: str) -> Response:
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, {"name": "Bob was here", "paused": True}, format="json")


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_it_returns_404_for_another_users_object(
    world: AliceWorld, bob_api: APIClient, method: str, url: str
) -> None:
    url = url.format(key=world.key.public_id, endpoint=world.endpoint.public_id, event=world.event.public_id)
    r = attempt(bob_api, method, url)
    assert r.status_code == 404
    assert "detail" in r.json()


def test_bob_cannot_change_anything_of_alices(world: AliceWorld, bob_api: APIClient) -> None:
    for method, url in ROUTES:
        url = url.format(key=world.key.public_id, endpoint=world.endpoint.public_id, event=world.event.public_id)
        attempt(bob_api, method, url)
    world.key.refresh_from_db()
    world.endpoint.refresh_from_db()
    world.event.refresh_from_db()
    assert world.key.revoked_at is None
    assert (world.endpoint.name, world.endpoint.paused) == ("Alice's", False)
    assert world.event.status == EventStatus.FAILED
    assert world.event.next_attempt_at is None
    assert DeliveryAttempt.objects.filter(pk=world.attempt.pk).exists()


def test_bob_cannot_page_from_alices_event(world: AliceWorld, bob_api: APIClient) -> None:
    theirs = bob_api.get("/api/v1/events/", {"since": world.event.public_id})
    unknown = bob_api.get("/api/v1/events/", {"since": "evt_nosuchevent"})
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["detail"].keys() == unknown.json()["detail"].keys() == {"since"}


def test_bobs_api_key_sees_none_of_alices_objects(world: AliceWorld, bob) -> None:
    _, raw = ApiKey.issue(bob, "script")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    assert world.endpoint.public_id not in client.get("/api/v1/endpoints/").content.decode()
    assert client.get(f"/api/v1/events/{world.event.public_id}/").status_code == 404
