"""Every answer of `/in/`, whatever its status, is inert in a browser."""

import http.client
from concurrent.futures import ThreadPoolExecutor

import pytest

from endpoints.models import Endpoint
from events.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

NOSNIFF = ("x-content-type-options", "nosniff")
SANDBOX = ("content-security-policy", "sandbox; default-src 'none'")


def raw_request(server, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"{}"):
    """One request sent exactly as written (no client-side URL clean-up)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def assert_inert(headers: dict[str, str]) -> None:
    assert headers.get(NOSNIFF[0]) == NOSNIFF[1]
    assert headers.get(SANDBOX[0]) == SANDBOX[1]


@pytest.fixture
def inbox(alice):
    return Endpoint.objects.create(owner=alice, name="Inbox")


def test_a_stored_webhook_answer_is_inert(server, inbox):
    status, headers, _ = raw_request(server, "POST", f"/in/{inbox.ingest_token}")
    assert status == 200
    assert_inert(headers)


def test_a_custom_answer_is_inert_and_keeps_its_allowed_type(server, alice):
    endpoint = Endpoint.objects.create(
        owner=alice, name="Custom", response_status=201, response_content_type="application/json; charset=utf-8",
        response_body='{"ok": true}',
    )
    status, headers, body = raw_request(server, "POST", f"/in/{endpoint.ingest_token}")
    assert (status, body) == (201, b'{"ok": true}')
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert_inert(headers)


def test_a_custom_type_saved_before_the_rule_is_answered_as_plain_text(server, alice):
    endpoint = Endpoint.objects.create(
        owner=alice, name="Old", response_content_type="text/html", response_body="<script>alert(1)</script>"
    )
    status, headers, _ = raw_request(server, "GET", f"/in/{endpoint.ingest_token}")
    assert status == 200
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert_inert(headers)


@pytest.mark.parametrize(
    ("target", "headers", "expected"),
    [
        ("/in/{token}/%2e%2e/admin", {}, 400),
        ("/in/0123456789abcdef0123456789abcdef", {}, 404),
        ("/in/not-a-token", {}, 404),
        ("/in/{token}", {"Content-Length": str(11 * 1024 * 1024)}, 413),
        ("/in/{token}?q=" + "x" * 9000, {}, 414),
        ("/in/{token}", {"X-Big": "x" * 40_000}, 431),
        ("/in/{token}", {"X-Hookline-Hops": "5"}, 508),
    ],
)
def test_every_refusal_is_inert_and_stores_nothing(server, inbox, target, headers, expected):
    status, answer_headers, body = raw_request(server, "POST", target.format(token=inbox.ingest_token), headers)
    assert status == expected, body
    assert answer_headers["content-type"] == "application/json"
    assert_inert(answer_headers)
    assert Event.objects.count() == 0


def test_a_rate_limited_answer_is_inert(server, alice):
    endpoint = Endpoint.objects.create(owner=alice, name="Limited", rate_limit=1)
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: raw_request(server, "POST", f"/in/{endpoint.ingest_token}"), range(10)))
    limited = [headers for status, headers, _ in answers if status == 429]
    assert limited
    for headers in limited:
        assert_inert(headers)
