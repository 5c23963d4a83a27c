from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliveries.tasks import forward_due
from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Stripe production",
    "destination_url": "https://example.test/hooks/stripe",
    "retry_schedule": "10, 60,300",
    "timeout_seconds": "15",
    "response_status": "202",
    "response_content_type": "text/plain",
    "response_body": "thanks",
}





def test_creating_an_endpoint_stores_the_settings_and_opens_its_page(alice_client: Client, alice) -> None:
    response = alice_client.post("/endpoints/new/", VALID)
    endpoint = Endpoint.objects.get(owner=alice)
    assert response.status_code == 302
    assert response["Location"] == f"/endpoints/{endpoint.public_id}/"
    assert endpoint.public_id.startswith("ep_")
    assert endpoint.destination_url == "https://example.test/hooks/stripe"
    assert endpoint.retry_schedule == [10, 60, 300]
    assert endpoint.timeout_seconds == 15
    assert (endpoint.response_status, endpoint.response_content_type, endpoint.response_body) == (202, "text/plain", "thanks")
    assert endpoint.signing_secret.startswith("whsec_")


def test_an_empty_destination_makes_an_inbox(alice_client: Client, alice) -> None:
    alice_client.post("/endpoints/new/", {**VALID, "destination_url": ""})
    assert Endpoint.objects.get(owner=alice).destination_url is None


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("retry_schedule", "60, soon", "is not a number"),
        ("retry_schedule", "0", "Each retry delay must be"),
        ("retry_schedule", "", "This field is required."),
        ("timeout_seconds", "0", "Timeout must be between 1 and 30 seconds."),
        ("timeout_seconds", "31", "Timeout must be between 1 and 30 seconds."),
        ("destination_url", "ftp://example.test/in", "only http and https destinations are supported"),
        ("destination_url", "http://127.0.0.1/hook", "private or loopback address"),
        ("destination_url", "http://169.254.169.254/latest", "cloud metadata addresses are refused"),
        ("response_status", "99", "Response status must be an HTTP status from 200 to 599."),
        ("name", "", "This field is required."),
    ],
)
def test_creating_an_endpoint_with_a_bad_value_shows_why_and_stores_nothing(
    alice_client: Client, settings, field: str, value: str, message: str
) -> None:
    settings.ALLOW_PRIVATE_DESTINATIONS = False
    response = alice_client.post("/endpoints/new/", {**VALID, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Endpoint.objects.exists()


def test_a_loopback_destination_is_accepted_when_private_destinations_are_allowed(
    alice_client: Client, alice, settings
) -> None:
    settings.ALLOW_PRIVATE_DESTINATIONS = True
    response = alice_client.post("/endpoints/new/", {**VALID, "destination_url": "http://127.0.0.1:9000/hook"})
    assert response.status_code == 302
    assert Endpoint.objects.get(owner=alice).destination_url == "http://127.0.0.1:9000/hook"


def test_editing_shows_the_schedule_as_seconds_and_saves_changes(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Old", retry_schedule=[5, 50])
    form = alice_client.get(f"/endpoints/{endpoint.public_id}/edit/").content.decode()
    assert 'value="5, 50"' in form
    response = alice_client.post(f"/endpoints/{endpoint.public_id}/edit/", {**VALID, "name": "New", "retry_schedule": "7"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.retry_schedule) == ("New", [7])


def test_pausing_is_a_post_that_holds_the_endpoint(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    assert alice_client.get(f"/endpoints/{endpoint.public_id}/pause/").status_code == 405
    response = alice_client.post(f"/endpoints/{endpoint.public_id}/pause/")
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.paused


def test_resuming_makes_held_events_received_and_due_then_wakes_the_sweeper(
    alice_client: Client, alice, django_capture_on_commit_callbacks
) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://example.test/in", paused=True)
    held = [make_event(endpoint, status=EventStatus.HELD) for _ in range(3)]
    delivered = make_event(endpoint, status=EventStatus.DELIVERED)
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(f"/endpoints/{endpoint.public_id}/resume/")
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.paused
    before = timezone.now()
    for event in held:
        event.refresh_from_db()
        assert event.status == EventStatus.RECEIVED
        assert event.next_attempt_at is not None and event.next_attempt_at <= before
    delivered.refresh_from_db()
    assert (delivered.status, delivered.next_attempt_at) == (EventStatus.DELIVERED, None)
    assert forward_due.delay in callbacks


def test_deleting_asks_first_then_removes_the_endpoint_and_its_events(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    make_event(endpoint)
    page = alice_client.get(f"/endpoints/{endpoint.public_id}/delete/")
    assert page.status_code == 200 and "cannot be undone" in page.content.decode()
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()
    response = alice_client.post(f"/endpoints/{endpoint.public_id}/delete/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()
    assert not Event.objects.exists()


def test_rotating_the_signing_secret_replaces_it(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    old = endpoint.signing_secret
    alice_client.post(f"/endpoints/{endpoint.public_id}/rotate-secret/")
    endpoint.refresh_from_db()
    assert endpoint.signing_secret.startswith("whsec_") and endpoint.signing_secret != old
    assert endpoint.signing_secret in alice_client.get(f"/endpoints/{endpoint.public_id}/").content.decode()


def test_rotating_the_ingest_url_replaces_the_token(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    old = endpoint.ingest_token
    alice_client.post(f"/endpoints/{endpoint.public_id}/rotate-ingest-url/")
    endpoint.refresh_from_db()
    assert endpoint.ingest_token != old


def test_the_detail_page_shows_the_ingest_url_a_curl_example_and_settings(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://example.test/in")
    html = alice_client.get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert endpoint.ingest_url in html
    assert f"curl -X POST {endpoint.ingest_url}" in html
    assert "https://example.test/in" in html
    assert "60, 300, 1800" in html
    assert f'data-endpoint-id="{endpoint.public_id}"' in html
    assert f'data-endpoints="{endpoint.public_id}"' in html


def test_the_signing_secret_appears_only_on_the_detail_page(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    assert endpoint.signing_secret in alice_client.get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert endpoint.signing_secret not in alice_client.get("/").content.decode()
    assert endpoint.signing_secret not in alice_client.get("/endpoints/").content.decode()


def test_the_detail_page_lists_events_newest_first_fifty_per_page(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    start = timezone.now() - timedelta(hours=1)
    events = [make_event(endpoint, received_at=start + timedelta(seconds=i)) for i in range(51)]
    first = alice_client.get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert first.count("data-event-id=") == 50
    assert first.index(events[50].public_id) < first.index(events[49].public_id)
    assert events[0].public_id not in first
    assert "?page=2" in first
    second = alice_client.get(f"/endpoints/{endpoint.public_id}/?page=2").content.decode()
    assert second.count("data-event-id=") == 1
    assert events[0].public_id in second
    assert "?page=1" in second and "?page=3" not in second


def test_the_detail_page_costs_the_same_queries_for_many_events(alice_client: Client, alice, django_assert_max_num_queries) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    make_event(endpoint)
    url = f"/endpoints/{endpoint.public_id}/"
    with CaptureQueriesContext(connection) as few:
        alice_client.get(url)
    for _ in range(30):
        make_event(endpoint)
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get(url)
    assert len(few.captured_queries) <= 5


@pytest.mark.parametrize(
    "name, method",
    [
        ("endpoint_detail", "get"),
        ("endpoint_edit", "get"),
        ("endpoint_edit", "post"),
        ("endpoint_delete", "get"),
        ("endpoint_delete", "post"),
        ("endpoint_pause", "post"),
        ("endpoint_resume", "post"),
        ("endpoint_rotate_secret", "post"),
        ("endpoint_rotate_ingest_url", "post"),
    ],
)
def test_another_users_endpoint_is_404_and_left_alone(client: Client, alice, bob, name: str, method: str) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Alice's", paused=True)
    secret, token = endpoint.signing_secret, endpoint.ingest_token
    client.force_login(bob)
    response = getattr(client, method)(reverse(name, args=[endpoint.public_id]), {**VALID, "name": "Bob's"})
    assert response.status_code == 404
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.paused, endpoint.signing_secret, endpoint.ingest_token) == (
        "Alice's", True, secret, token
    )


def test_urls_use_public_ids_not_database_keys(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    assert alice_client.get(f"/endpoints/{endpoint.pk}/").status_code == 404


@pytest.mark.parametrize("path", ["/endpoints/%00/", "/events/%00/", "/events/%00/body/", "/endpoints/EP_X/edit/"])
def test_a_malformed_id_in_a_page_url_is_404(client, alice, path):
    client.force_login(alice)
    assert client.get(path).status_code == 404


def test_a_huge_page_number_shows_an_empty_page(client, alice):
    endpoint = Endpoint.objects.create(owner=alice, name="E")
    client.force_login(alice)
    assert client.get(f"/endpoints/{endpoint.public_id}/", {"page": "9" * 20}).status_code == 200


def test_a_content_type_with_a_line_break_is_refused_by_the_form(client, alice):
    client.force_login(alice)
    answer = client.post("/endpoints/new/", {
        "name": "x", "retry_schedule": "60", "timeout_seconds": 10, "response_content_type": "text/\u2192",
    })
    assert answer.status_code == 200
    assert "Content type must be one of" in answer.content.decode()
    assert Endpoint.objects.count() == 0
