"""The event page's inspection parts: verdict, type, SHA-256, body views, copy as curl."""

import hashlib

import pytest
from django.test import Client

from endpoints.models import Endpoint
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(alice) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name="Stripe")


def page(client: Client, event) -> str:
    response = client.get(f"/events/{event.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_verdict_type_size_and_sha256(alice_client: Client, endpoint: Endpoint) -> None:
    body = b'{"type": "charge.succeeded"}'
    event = make_event(
        endpoint, body, event_type="charge.succeeded", sha256=hashlib.sha256(body).hexdigest(),
        signature={"scheme": "stripe", "verdict": "valid", "detail": "v1 signature matches"},
    )
    html = page(alice_client, event)
    assert 'data-verdict="valid"' in html and ">stripe valid</span>" in html
    assert f'data-field="sha256">{hashlib.sha256(body).hexdigest()}</code>' in html
    assert '<dd data-field="size">28 bytes</dd>' in html
    assert "<code>charge.succeeded</code>" in html
    assert "stripe: valid (v1 signature matches)" in html


def test_an_event_stored_before_hashes_gets_its_sha256_on_the_page(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b"old")
    assert hashlib.sha256(b"old").hexdigest() in page(alice_client, event)


def test_a_duplicate_links_to_its_original_and_a_handshake_says_so(alice_client: Client, endpoint: Endpoint) -> None:
    original = make_event(endpoint)
    copy = make_event(endpoint, duplicate_of=original.public_id, handshake="slack")
    html = page(alice_client, copy)
    assert f'href="/events/{original.public_id}/" data-field="duplicate_of"' in html
    assert 'data-handshake="slack">slack handshake</span>' in html


def test_each_body_view_is_on_the_page_with_the_best_one_open(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b"a=1&b=%3Cb%3E", content_type="application/x-www-form-urlencoded")
    html = page(alice_client, event)
    assert 'data-body-view="form" aria-pressed="true"' in html
    assert 'data-body-view="text" aria-pressed="false"' in html
    assert 'data-body-panel="text" hidden' in html
    assert "<td><code class=\"wrap\">&lt;b&gt;</code></td>" in html  # decoded, still escaped


def test_copy_as_curl_is_on_the_page_escaped(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b'{"x": "</pre><script>"}', headers=[["content-type", "application/json"]])
    html = page(alice_client, event)
    assert 'id="curl-command"' in html
    assert "--data-binary &#x27;{&quot;x&quot;: &quot;&lt;/pre&gt;&lt;script&gt;&quot;}&#x27;" in html
    assert "-H &#x27;content-type: application/json&#x27;" in html


def test_download_raw_is_the_exact_bytes_as_an_attachment(alice_client: Client, endpoint: Endpoint) -> None:
    event = make_event(endpoint, b"\x00\xff<svg onload=alert(1)>")
    response = alice_client.get(f"/events/{event.public_id}/body/")
    assert response.content == b"\x00\xff<svg onload=alert(1)>"
    assert response["Content-Disposition"] == f'attachment; filename="{event.public_id}.bin"'
