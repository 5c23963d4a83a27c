"""The bulk replay pages: the start form, the progress page and Cancel."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from endpoints.models import Endpoint
from events.models import EventStatus
from replays.models import BulkReplay, ReplayState
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(alice) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name="Shop", destination_url="https://hooks.example.test/")


def test_the_endpoint_page_links_to_the_form(alice_client: Client, endpoint: Endpoint) -> None:
    html = alice_client.get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert f'href="/endpoints/{endpoint.public_id}/replay/">Bulk replay</a>' in html


def test_starting_counts_the_matches_and_opens_the_progress_page(
    alice_client: Client, endpoint: Endpoint, django_capture_on_commit_callbacks
) -> None:
    old = timezone.now() - timedelta(days=2)
    make_event(endpoint, status=EventStatus.FAILED, received_at=old)
    make_event(endpoint, status=EventStatus.FAILED)
    make_event(endpoint, status=EventStatus.DELIVERED)
    after = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(
            f"/endpoints/{endpoint.public_id}/replay/", {"status": "failed", "received_after": after}
        )
    job = BulkReplay.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/replays/{job.public_id}/"
    assert (job.state, job.total, job.status) == (ReplayState.RUNNING, 1, "failed")
    assert len(callbacks) == 1
    html = alice_client.get(response["Location"]).content.decode()
    assert 'data-state="running">running</span>' in html
    assert 'data-done="0" max="1" value="0"' in html
    assert 'id="cancel-replay"' in html and 'id="cancel-replay" hidden' not in html
    assert "replays/progress.js" in html


def test_a_replay_matching_nothing_shows_its_summary_at_once(alice_client: Client, endpoint: Endpoint) -> None:
    response = alice_client.post(f"/endpoints/{endpoint.public_id}/replay/", {"status": "failed"}, follow=True)
    html = response.content.decode()
    assert 'data-state="done">done</span>' in html
    assert "Finished: 0 events replayed, 0 delivered, 0 failed." in html
    assert 'data-done="0" max="1" value="1">100 %</progress>' in html


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"status": "lost"}, "Select a valid choice"),
        ({"received_after": "2025-03-02T00:00", "received_before": "2025-03-01T00:00"}, "Must be later than"),
        ({"received_after": "soon"}, "Enter a valid date/time"),
    ],
)
def test_a_bad_filter_redraws_the_form(alice_client: Client, endpoint: Endpoint, fields: dict, error: str) -> None:
    response = alice_client.post(f"/endpoints/{endpoint.public_id}/replay/", fields)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not BulkReplay.objects.exists()


def test_an_inbox_cannot_be_bulk_replayed(alice_client: Client, alice) -> None:
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    response = alice_client.post(f"/endpoints/{inbox.public_id}/replay/", {})
    assert response.status_code == 400
    assert "inbox with no destination" in response.content.decode()
    assert not BulkReplay.objects.exists()


def test_cancel_stops_the_job_and_says_so(alice_client: Client, alice, endpoint: Endpoint) -> None:
    make_event(endpoint, status=EventStatus.FAILED)
    alice_client.post(f"/endpoints/{endpoint.public_id}/replay/", {"status": "failed"})
    job = BulkReplay.objects.get()
    response = alice_client.post(f"/replays/{job.public_id}/cancel/", follow=True)
    html = response.content.decode()
    assert "Cancelled: events not sent yet are left alone." in html
    assert 'data-state="cancelled">cancelled</span>' in html
    assert "Cancelled after 0 of 1: 0 delivered, 0 failed; the rest was not sent." in html
    assert 'id="cancel-replay" hidden' in html
    again = alice_client.post(f"/replays/{job.public_id}/cancel/", follow=True)
    assert "had already finished (cancelled)" in again.content.decode()


def test_cancel_needs_a_post_and_a_csrf_token(alice, endpoint: Endpoint) -> None:
    make_event(endpoint, status=EventStatus.FAILED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    job = BulkReplay.objects.create(owner=alice, endpoint=endpoint, total=1)
    assert client.get(f"/replays/{job.public_id}/cancel/").status_code == 405
    assert client.post(f"/replays/{job.public_id}/cancel/").status_code == 403
    job.refresh_from_db()
    assert job.state == ReplayState.RUNNING


def test_another_users_pages_are_404(client: Client, bob, alice, endpoint: Endpoint) -> None:
    job = BulkReplay.objects.create(owner=alice, endpoint=endpoint, total=1)
    client.force_login(bob)
    assert client.get(f"/endpoints/{endpoint.public_id}/replay/").status_code == 404
    assert client.post(f"/endpoints/{endpoint.public_id}/replay/", {}).status_code == 404
    assert client.get(f"/replays/{job.public_id}/").status_code == 404
    assert client.post(f"/replays/{job.public_id}/cancel/").status_code == 404
    job.refresh_from_db()
    assert job.state == ReplayState.RUNNING


def test_the_pages_need_a_login(client: Client, endpoint: Endpoint) -> None:
    assert client.get(f"/endpoints/{endpoint.public_id}/replay/").status_code == 302
