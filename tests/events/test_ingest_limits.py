"""Ingest caps what it stores (URL, headers) and stops forwarding loops."""

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from deliveries.models import DeliveryAttempt
from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.events.test_ingest_answers import raw_request
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inbox(alice):
    return Endpoint.objects.create(owner=alice, name="Inbox")


def test_the_limits_have_sensible_defaults():
    assert settings.MAX_URL_BYTES == 8192
    assert settings.MAX_HEADER_BYTES == 32768
    assert settings.MAX_FORWARD_HOPS == 5


def test_it_returns_414_for_a_query_past_the_limit_and_stores_nothing(server, inbox):
    target = f"/in/{inbox.ingest_token}?q="
    status, _, body = raw_request(server, "POST", target + "x" * (settings.MAX_URL_BYTES + 1 - len(target)))
    assert status == 414
    assert str(settings.MAX_URL_BYTES) in body.decode()
    assert Event.objects.count() == 0


def test_a_url_at_the_limit_is_stored_whole(server, inbox):
    target = f"/in/{inbox.ingest_token}?q="
    target += "x" * (settings.MAX_URL_BYTES - len(target))
    status, _, _ = raw_request(server, "POST", target)
    assert status == 200
    assert Event.objects.get().query == target.partition("?")[2]


def test_it_returns_431_for_headers_past_the_limit_and_stores_nothing(server, inbox):
    status, _, body = raw_request(server, "POST", f"/in/{inbox.ingest_token}", {"X-Big": "x" * settings.MAX_HEADER_BYTES})
    assert status == 431
    assert str(settings.MAX_HEADER_BYTES) in body.decode()
    assert Event.objects.count() == 0


def test_many_headers_just_under_the_limit_are_stored(server, inbox):
    headers = {f"X-Part-{i}": "y" * 1000 for i in range(25)}
    status, _, _ = raw_request(server, "POST", f"/in/{inbox.ingest_token}", headers)
    assert status == 200
    assert ["x-part-24", "y" * 1000] in Event.objects.get().headers


def test_it_returns_508_at_the_hop_limit_and_stores_nothing(server, inbox):
    status, _, body = raw_request(server, "POST", f"/in/{inbox.ingest_token}", {"X-Hookline-Hops": "5"})
    assert status == 508
    assert "loop" in body.decode().lower()
    assert Event.objects.count() == 0


def test_a_request_under_the_hop_limit_is_stored(server, inbox):
    status, _, _ = raw_request(server, "POST", f"/in/{inbox.ingest_token}", {"X-Hookline-Hops": "4"})
    assert status == 200


def test_a_loop_through_another_installation_stops_at_the_hop_limit(server, worker, alice):
    # "localhost" is another name for this server: the save-time check cannot
    # see the loop, the hop count must stop it.
    a = Endpoint.objects.create(owner=alice, name="A", retry_schedule=[3600])
    b = Endpoint.objects.create(
        owner=alice, name="B", retry_schedule=[3600], destination_url=f"http://localhost:{server.port}/in/{a.ingest_token}"
    )
    Endpoint.objects.filter(pk=a.pk).update(destination_url=f"http://localhost:{server.port}/in/{b.ingest_token}")
    assert requests.post(f"{server.url}/in/{a.ingest_token}", data=b"{}", timeout=10).status_code == 200

    refused = wait_until(
        lambda: DeliveryAttempt.objects.filter(status_code=508).first(), timeout=30, message="the loop to be refused"
    )
    hops = sorted(int(dict(event.headers).get("x-hookline-hops", 0)) for event in Event.objects.all())
    assert hops == [0, 1, 2, 3, 4]
    assert dict(refused.request_headers)["x-hookline-hops"] == "5"
    # Nothing moves any more: four forwards arrived, the refused one waits an hour.
    settled = [EventStatus.DELIVERED] * 4 + [EventStatus.RETRYING]
    wait_until(lambda: sorted(Event.objects.values_list("status", flat=True)) == settled, message="every forward recorded")
    assert not Event.objects.filter(next_attempt_at__lte=timezone.now()).exists()
    assert DeliveryAttempt.objects.count() == 5
