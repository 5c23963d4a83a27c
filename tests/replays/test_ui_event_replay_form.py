"""The event page's replay form: to the endpoint, to a URL, with edits."""

import pytest
from django.test import Client

from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db

HEADERS = [["content-type", "application/json"], ["x-shop", "acme"]]
HEADERS_TEXT = "content-type: application/json\r\nx-shop: acme"
BODY = b'{\n  "id": 1\n}'


@pytest.fixture
def event(alice) -> Event:
    endpoint = Endpoint.objects.create(owner=alice, name="Shop", destination_url="https://hooks.example.test/")
    return make_event(endpoint, BODY, headers=HEADERS, status=EventStatus.FAILED)


def replay(client: Client, event: Event, **fields: str):
    return client.post(f"/events/{event.public_id}/replay/", fields)


def test_the_form_is_filled_with_the_events_headers_and_body(alice_client: Client, event: Event) -> None:
    html = alice_client.get(f"/events/{event.public_id}/").content.decode()
    assert 'id="replay"' in html
    assert "content-type: application/json\nx-shop: acme</textarea>" in html
    assert "{\n  &quot;id&quot;: 1\n}</textarea>" in html
    assert '<input type="radio" name="target" value="endpoint" checked>' in html


def test_an_unchanged_form_is_a_new_round_on_the_same_event(
    alice_client: Client, event: Event, django_capture_on_commit_callbacks
) -> None:
    # What a browser sends back: CRLF line breaks in both textareas.
    with django_capture_on_commit_callbacks() as callbacks:
        response = replay(alice_client, event, target="endpoint", headers=HEADERS_TEXT, body="{\r\n  \"id\": 1\r\n}")
    assert response.status_code == 302 and response["Location"] == f"/events/{event.public_id}/"
    assert Event.objects.count() == 1
    event.refresh_from_db()
    assert event.status == EventStatus.RECEIVED and event.next_attempt_at is not None
    assert len(callbacks) == 1


def test_an_edited_body_becomes_a_new_event_and_its_page_links_back(alice_client: Client, event: Event) -> None:
    response = replay(alice_client, event, target="endpoint", headers=HEADERS_TEXT, body='{\r\n  "id": 2\r\n}')
    copy = Event.objects.exclude(pk=event.pk).get()
    assert response["Location"] == f"/events/{copy.public_id}/"
    assert copy.body_bytes == b'{\n  "id": 2\n}'
    assert copy.headers == HEADERS
    assert copy.replay_of == event
    copy_page = alice_client.get(response["Location"]).content.decode()
    assert f'data-field="replay_of"><code>{event.public_id}</code>' in copy_page
    assert "Replayed as a new event" in copy_page
    original_page = alice_client.get(f"/events/{event.public_id}/").content.decode()
    assert f'<a href="/events/{copy.public_id}/"><code>{copy.public_id}</code></a>' in original_page


def test_edited_headers_to_a_url_make_a_copy_sent_there(
    alice_client: Client, event: Event, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        replay(
            alice_client, event, target="url", destination_url="https://laptop.example.test/in",
            headers="content-type: application/json\r\nx-shop: other", body='{\n  "id": 1\n}',
        )
    copy = Event.objects.exclude(pk=event.pk).get()
    assert copy.headers == [["content-type", "application/json"], ["x-shop", "other"]]
    assert copy.body_bytes == BODY
    # Not due to the destination: one attempt to the URL, as a task.
    assert (copy.status, copy.next_attempt_at) == (EventStatus.RECEIVED, None)
    assert len(callbacks) == 2  # the attempt's task and the copy's event.received


def test_a_url_alone_sends_the_event_itself_there(
    alice_client: Client, event: Event, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = replay(alice_client, event, target="url", destination_url="https://laptop.example.test/in")
    assert response["Location"] == f"/events/{event.public_id}/"
    assert Event.objects.count() == 1
    event.refresh_from_db()
    assert (event.status, event.next_attempt_at) == (EventStatus.FAILED, None)
    assert len(callbacks) == 1
    page = alice_client.get(response["Location"]).content.decode()
    assert "Sending one attempt to https://laptop.example.test/in" in page


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"target": "url"}, "Give the URL to send the event to."),
        ({"target": "url", "destination_url": "http://169.254.169.254/"}, "Destination refused"),
        ({"target": "endpoint", "headers": "no colon here"}, "Line 1 is not &quot;Name: value&quot;."),
        ({"target": "endpoint", "headers": "bad name: x"}, "is not a valid header name"),
        ({"target": "nowhere"}, "Select a valid choice"),
    ],
)
def test_bad_input_redraws_the_page_with_the_error_and_stores_nothing(
    alice_client: Client, event: Event, fields: dict, error: str
) -> None:
    response = replay(alice_client, event, **fields)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Event.objects.count() == 1
    event.refresh_from_db()
    assert event.next_attempt_at is None


def test_a_binary_body_is_not_editable_and_is_sent_as_it_is(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Files", destination_url="https://hooks.example.test/")
    binary = make_event(endpoint, b"\x00\xff\x10", headers=[["content-type", "application/octet-stream"]])
    html = alice_client.get(f"/events/{binary.public_id}/").content.decode()
    assert 'name="body"' not in html
    replay(alice_client, binary, target="endpoint", headers="content-type: application/x-raw", body="ignored")
    copy = Event.objects.exclude(pk=binary.pk).get()
    assert copy.body_bytes == b"\x00\xff\x10"
    assert copy.content_type == "application/x-raw"


def test_a_body_over_the_limit_is_refused(alice_client: Client, event: Event, settings) -> None:
    settings.MAX_BODY_BYTES = 8
    response = replay(alice_client, event, target="endpoint", body="123456789")
    assert response.status_code == 400
    assert "larger than the limit of 8 bytes" in response.content.decode()
    assert Event.objects.count() == 1


def test_another_users_event_is_404(client: Client, bob, event: Event) -> None:
    client.force_login(bob)
    response = replay(client, event, target="url", destination_url="https://bob.example.test/", body="x")
    assert response.status_code == 404
    assert Event.objects.count() == 1


def test_an_inbox_keeps_an_edited_copy_but_refuses_an_unedited_replay(alice_client: Client, alice) -> None:
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    original = make_event(inbox, b"{}", headers=[["content-type", "application/json"]])
    unedited = replay(alice_client, original, target="endpoint", headers="content-type: application/json", body="{}")
    assert unedited.status_code == 302
    assert "there is nothing to replay to" in alice_client.get(unedited["Location"]).content.decode()
    assert Event.objects.count() == 1
    edited = replay(alice_client, original, target="endpoint", headers="content-type: application/json", body="[]")
    copy = Event.objects.exclude(pk=original.pk).get()
    assert edited["Location"] == f"/events/{copy.public_id}/"
    assert (copy.body_bytes, copy.status, copy.next_attempt_at) == (b"[]", EventStatus.RECEIVED, None)
