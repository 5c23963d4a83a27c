"""A test session's request, inspected like an event: body views, copy as curl, raw download."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from events.models import Event
from testsessions.models import TestSession

pytestmark = pytest.mark.django_db

FORM = b"name=Ada+Lovelace&role=%3Cscript%3E"


def store(session: TestSession, body: bytes, content_type: str) -> Event:
    return Event.objects.create(
        endpoint=session.endpoint, method="POST", body=body, size=len(body), received_at=timezone.now(),
        content_type=content_type, headers=[["content-type", content_type], ["x-trace", "<b>t</b>"]],
    )


def test_it_shows_the_event_pages_views_of_a_form_body_without_an_account(client) -> None:
    session = TestSession.open("127.0.0.1")
    event = store(session, FORM, "application/x-www-form-urlencoded")

    page = client.get(f"/t/{session.public_id}/events/{event.public_id}/").content.decode()

    assert 'data-body-view="form"' in page and 'data-body-view="hex"' in page
    assert "Ada Lovelace" in page
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert "&lt;b&gt;t&lt;/b&gt;" in page
    assert 'id="copy-curl"' in page and "--data-binary" in page
    assert session.endpoint.ingest_url in page


def test_an_xml_body_gets_the_xml_view(client) -> None:
    session = TestSession.open("127.0.0.1")
    event = store(session, b"<order><id>7</id></order>", "application/xml")

    page = client.get(f"/t/{session.public_id}/events/{event.public_id}/").content.decode()

    assert 'data-body-view="xml"' in page


def test_the_raw_body_downloads_byte_for_byte(client) -> None:
    session = TestSession.open("127.0.0.1")
    event = store(session, b"\x00\xff<svg/>", "image/svg+xml")

    answer = client.get(f"/t/{session.public_id}/events/{event.public_id}/raw/")

    assert answer.status_code == 200
    assert answer.content == b"\x00\xff<svg/>"
    assert answer["Content-Type"] == "application/octet-stream"
    assert answer["Content-Disposition"].startswith("attachment")


def test_another_sessions_request_is_404(client) -> None:
    mine, other = TestSession.open("127.0.0.1"), TestSession.open("127.0.0.1")
    event = store(other, FORM, "application/x-www-form-urlencoded")

    assert client.get(f"/t/{mine.public_id}/events/{event.public_id}/").status_code == 404
    assert client.get(f"/t/{mine.public_id}/events/{event.public_id}/raw/").status_code == 404


def test_an_expired_session_hides_its_requests(client) -> None:
    session = TestSession.open("127.0.0.1")
    event = store(session, FORM, "application/x-www-form-urlencoded")

    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1)):
        assert client.get(f"/t/{session.public_id}/events/{event.public_id}/").status_code == 404
