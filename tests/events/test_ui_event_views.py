from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db



@pytest.fixture
def endpoint(alice) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://example.test/in")




def page(client: Client, event: Event) -> str:
    response = client.get(f"/events/{event.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_the_request_facts(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(
        endpoint, b"a=1", method="PUT", path="orders/7", query="x=1&y=2", source_ip="203.0.113.9",
        status=EventStatus.RETRYING,
    )
    html = page(alice_client, event)
    assert '<span class="method">PUT</span>' in html
    assert "/orders/7" in html
    assert "?x=1&amp;y=2" in html
    assert "203.0.113.9" in html
    assert "3 bytes" in html
    assert event.received_at.strftime("%Y-%m-%d %H:%M:%S") in html
    assert '<span class="badge" data-status="retrying">retrying</span>' in html


def test_a_json_body_is_pretty_printed(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b'{"type":"charge.succeeded","data":{"amount":1200}}')
    html = page(alice_client, event)
    assert 'data-kind="json"' in html
    assert '{\n  &quot;type&quot;: &quot;charge.succeeded&quot;,\n  &quot;data&quot;: {\n    &quot;amount&quot;: 1200' in html


def test_a_utf8_body_that_is_not_json_is_shown_as_text(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, "name=Zoë&city=Zürich".encode())
    html = page(alice_client, event)
    assert 'data-kind="text"' in html
    assert "name=Zoë&amp;city=Zürich" in html


def test_a_binary_body_is_shown_as_a_hex_dump(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b"\x89PNG\r\n\x1a\n\x00\xff")
    html = page(alice_client, event)
    assert 'data-kind="hex"' in html
    assert "00000000  89 50 4e 47 0d 0a 1a 0a 00 ff" in html
    assert "|.PNG......|" in html


def test_a_long_binary_body_is_cut_with_a_pointer_to_the_download(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b"\xff" * 40_000)
    html = page(alice_client, event)
    assert "Showing the first" in html
    assert html.count("ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff") == 16 * 1024 // 16


def test_a_script_in_the_body_and_headers_is_escaped(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(
        endpoint,
        b"<script>alert(1)</script>",
        headers=[["x-evil", '"><img src=x onerror=alert(2)>']],
        path="<b>p</b>",
        query="q=<i>",
    )
    html = page(alice_client, event)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<b>p</b>" not in html and "<i>" not in html


def test_a_script_in_a_json_body_is_escaped(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b'{"html": "</code></pre><script>alert(1)</script>"}')
    html = page(alice_client, event)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_headers_are_listed_in_order_with_repeated_names_kept(alice_client: Client, endpoint: Endpoint) -> None:
    headers = [["content-type", "application/json"], ["x-tag", "first"], ["user-agent", "curl/8"], ["x-tag", "second"]]
    html = page(alice_client, make_event(endpoint, b"{}", headers=headers))
    positions = [html.index(f"<code class=\"wrap\">{value}</code>") for _, value in headers]
    assert positions == sorted(positions)
    assert html.count("<code>x-tag</code>") == 2


def test_the_attempts_timeline_lists_every_attempt(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b"{}", status=EventStatus.DELIVERED)
    started = timezone.now() - timedelta(minutes=2)
    retry_at = started + timedelta(seconds=60)
    DeliveryAttempt.objects.create(
        event=event, endpoint=endpoint, attempt=1, url="https://example.test/in", status_code=503,
        outcome=Outcome.HTTP_ERROR, duration_ms=120, response_body=b"<h1>down</h1>", error="",
        started_at=started, next_retry_at=retry_at,
    )
    DeliveryAttempt.objects.create(
        event=event, endpoint=endpoint, attempt=2, url="https://example.test/in", status_code=None,
        outcome=Outcome.TIMEOUT, duration_ms=10000, error="read timed out", started_at=started + timedelta(seconds=60),
        next_retry_at=None,
    )
    html = page(alice_client, event)
    timeline = html[html.index('id="attempts"') :]
    assert f'data-event-id="{event.public_id}"' in html[html.index('<ol class="timeline"') :]
    assert timeline.index('data-attempt="1"') < timeline.index('data-attempt="2"')
    assert "HTTP 503" in timeline and "120 ms" in timeline
    assert "&lt;h1&gt;down&lt;/h1&gt;" in timeline
    assert retry_at.strftime("%Y-%m-%d %H:%M:%S") in timeline
    assert 'data-outcome="timeout"' in timeline and "read timed out" in timeline and "10000 ms" in timeline


def test_replay_makes_a_failed_event_due_again(
    alice_client: Client, endpoint: Endpoint, django_capture_on_commit_callbacks
) -> None:
    event = make_event(endpoint, b"{}", status=EventStatus.FAILED, retry_index=7, attempt_count=8)
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(f"/events/{event.public_id}/replay/")
    assert response.status_code == 302 and response["Location"] == f"/events/{event.public_id}/"
    event.refresh_from_db()
    assert event.status == EventStatus.RECEIVED
    assert event.next_attempt_at is not None and event.next_attempt_at <= timezone.now()
    assert event.retry_index == 0
    assert len(callbacks) == 1


def test_replay_on_a_paused_endpoint_holds_the_event(alice_client: Client, endpoint: Endpoint) -> None:
    endpoint.paused = True
    endpoint.save()
    event = make_event(endpoint, b"{}", status=EventStatus.FAILED)
    alice_client.post(f"/events/{event.public_id}/replay/")
    event.refresh_from_db()
    assert (event.status, event.next_attempt_at) == (EventStatus.HELD, None)


def test_replay_on_an_inbox_endpoint_changes_nothing(alice_client: Client, alice) -> None:
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    event = make_event(inbox, b"{}")
    response = alice_client.post(f"/events/{event.public_id}/replay/", follow=True)
    assert "nothing to replay to" in response.content.decode()
    event.refresh_from_db()
    assert event.next_attempt_at is None
    html = page(alice_client, event)
    # The replay form offers "This inbox" (for edited copies) and another URL.
    assert "This inbox" in html and 'value="url"' in html
    # ... and the page head has no one-click replay.
    assert html.count(f'action="/events/{event.public_id}/replay/"') == 1


def test_replay_needs_a_post(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b"{}", status=EventStatus.FAILED)
    assert alice_client.get(f"/events/{event.public_id}/replay/").status_code == 405
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED


def test_the_body_downloads_byte_for_byte_as_an_attachment(alice_client: Client, endpoint: Endpoint) -> None:
    body = b"<html>\x00\xff</html>"
    event = make_event(endpoint, body)
    response = alice_client.get(f"/events/{event.public_id}/body/")
    assert response.content == body
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == f'attachment; filename="{event.public_id}.bin"'


def test_replay_without_a_csrf_token_is_forbidden(alice, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b"{}", status=EventStatus.FAILED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(f"/events/{event.public_id}/replay/").status_code == 403
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED


@pytest.mark.parametrize("name, method", [("event_detail", "get"), ("event_body", "get"), ("event_replay", "post")])
def test_another_users_event_is_404_and_left_alone(client: Client, bob, endpoint: Endpoint, name: str, method: str) -> None:
    event = make_event(endpoint, b"secret", status=EventStatus.FAILED)
    client.force_login(bob)
    response = getattr(client, method)(reverse(name, args=[event.public_id]))
    assert response.status_code == 404
    assert b"secret" not in response.content
    event.refresh_from_db()
    assert (event.status, event.next_attempt_at) == (EventStatus.FAILED, None)


def test_event_pages_need_a_login(client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b"{}")
    response = client.get(f"/events/{event.public_id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_costs_a_fixed_number_of_queries(alice_client: Client, endpoint: Endpoint, django_assert_num_queries) -> None:
    event = make_event(endpoint, b"{}")
    for n in range(1, 6):
        DeliveryAttempt.objects.create(
            event=event, endpoint=endpoint, attempt=n, url="https://example.test/in", outcome=Outcome.TIMEOUT,
            started_at=timezone.now(),
        )
    # session, user, event with its endpoint, attempts, its edited replays
    with django_assert_num_queries(5):
        page(alice_client, event)
