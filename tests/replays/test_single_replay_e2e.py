"""Replaying one event through the real server, worker and destinations."""

import pytest
import requests

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.support.processes import wait_until
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b'{"type": "charge.succeeded", "amount": 100}'


@pytest.fixture
def laptop():
    """A second destination: the developer's machine."""
    with Receiver() as running:
        yield running


@pytest.fixture
def delivered(server, worker, alice, receiver) -> Event:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", destination_url=receiver.url, retry_schedule=[1])
    answer = requests.post(
        f"{server.url}/in/{endpoint.ingest_token}/charges?live=1", data=BODY,
        headers={"content-type": "application/json", "stripe-signature": "t=1,v1=abc"}, timeout=10,
    )
    event = Event.objects.get(public_id=answer.json()["event_id"])
    wait_until(lambda: Event.objects.get(pk=event.pk).status == EventStatus.DELIVERED, message="first delivery")
    return Event.objects.get(pk=event.pk)


def test_a_url_alone_sends_one_attempt_there_recorded_on_the_event(api, delivered, receiver, laptop) -> None:
    r = api.post(f"/api/v1/events/{delivered.public_id}/replay/", {"destination_url": laptop.url + "/hooks"})
    assert r.status_code == 202, r.text
    assert r.json() == {"event_id": delivered.public_id, "replay_of": None, "status": "delivered"}
    (got,) = laptop.wait_for(1)
    assert (got.method, got.path, got.body) == ("POST", "/hooks/charges?live=1", BODY)
    assert got.header("stripe-signature") == "t=1,v1=abc"
    assert got.header("webhook-id") == delivered.public_id
    wait_until(lambda: DeliveryAttempt.objects.filter(event=delivered).count() == 2, message="the attempt's row")
    attempts = api.get(f"/api/v1/events/{delivered.public_id}/deliveries/").json()
    assert [(a["attempt"], a["url"], a["outcome"], a["one_off"]) for a in attempts] == [
        (1, receiver.url + "/charges?live=1", Outcome.SUCCESS, False),
        (2, laptop.url + "/hooks/charges?live=1", Outcome.SUCCESS, True),
    ]
    # The event's own delivery is untouched: no new round to its destination.
    event = Event.objects.get(pk=delivered.pk)
    assert (event.status, event.next_attempt_at, event.attempt_count) == (EventStatus.DELIVERED, None, 2)
    assert len(receiver.requests) == 1


def test_a_url_that_fails_gets_one_attempt_and_no_retry(api, delivered, laptop) -> None:
    laptop.script(Reply(status=500))
    api.post(f"/api/v1/events/{delivered.public_id}/replay/", {"destination_url": laptop.url})
    wait_until(lambda: DeliveryAttempt.objects.filter(event=delivered, attempt=2).exists(), message="the attempt")
    attempt = DeliveryAttempt.objects.get(event=delivered, attempt=2)
    assert (attempt.outcome, attempt.status_code, attempt.next_retry_at) == (Outcome.HTTP_ERROR, 500, None)
    assert Event.objects.get(pk=delivered.pk).status == EventStatus.DELIVERED
    assert len(laptop.requests) == 1


def test_an_edited_body_is_forwarded_as_a_new_event_to_the_destination(api, delivered, receiver) -> None:
    r = api.post(f"/api/v1/events/{delivered.public_id}/replay/", {"body": '{"amount": 1}'})
    assert r.status_code == 202, r.text
    copy_id = r.json()["event_id"]
    assert r.json()["replay_of"] == delivered.public_id
    wait_until(lambda: Event.objects.get(public_id=copy_id).status == EventStatus.DELIVERED, message="the copy")
    second = receiver.wait_for(2)[1]
    assert (second.path, second.body) == ("/charges?live=1", b'{"amount": 1}')
    assert second.header("webhook-id") == copy_id
    assert second.header("stripe-signature") == "t=1,v1=abc"


def test_edited_headers_to_a_url_go_there_and_not_to_the_destination(api, delivered, receiver, laptop) -> None:
    headers = [["content-type", "application/json"], ["x-debug", "yes"]]
    r = api.post(
        f"/api/v1/events/{delivered.public_id}/replay/", {"destination_url": laptop.url, "headers": headers}
    )
    copy_id = r.json()["event_id"]
    (got,) = laptop.wait_for(1)
    assert got.header("x-debug") == "yes"
    assert got.header("stripe-signature") is None
    assert got.body == BODY
    wait_until(lambda: DeliveryAttempt.objects.filter(event__public_id=copy_id).exists(), message="the attempt")
    copy = Event.objects.get(public_id=copy_id)
    assert (copy.status, copy.replay_of_id) == (EventStatus.RECEIVED, delivered.pk)
    assert len(receiver.requests) == 1
