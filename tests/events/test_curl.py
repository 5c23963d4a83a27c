"""Copy as curl: the command, run by the real `curl`, makes a byte-identical event."""

import http.client
import json
import subprocess

import pytest

from endpoints.models import Endpoint
from events.curl import as_curl
from events.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inbox(alice):
    return Endpoint.objects.create(owner=alice, name="Inbox")


def send_raw(server, path: str, method: str, headers: list[tuple[str, str]], body: bytes) -> Event:
    """A request with exactly these headers (no client adds its own)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in headers:
        conn.putheader(name, value)
    conn.endheaders(body or None)
    answer = conn.getresponse()
    assert answer.status == 200
    return Event.objects.get(public_id=json.loads(answer.read())["event_id"])


def replayed(server, original: Event, tmp_path) -> Event:
    # The server process's PUBLIC_BASE_URL, as its event page would print it.
    command = as_curl(original, f"{server.url}/in/{original.endpoint.ingest_token}")
    done = subprocess.run(["bash", "-c", command + " --silent --show-error"], capture_output=True, cwd=tmp_path, timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    return Event.objects.get(public_id=json.loads(done.stdout)["event_id"])


def assert_identical(copy: Event, original: Event) -> None:
    assert copy.public_id != original.public_id
    assert copy.method == original.method
    assert copy.path == original.path
    assert copy.query == original.query
    assert copy.body_bytes == original.body_bytes
    assert sorted(map(tuple, copy.headers)) == sorted(map(tuple, original.headers))


def test_a_json_webhook_comes_back_identical(server, inbox, tmp_path):
    body = b'{"type": "charge.succeeded", "note": "it\'s \\"quoted\\" & $HOME `id`"}\n'
    original = send_raw(server, f"/in/{inbox.ingest_token}/stripe/events?x=1&y=%20z", "POST", [
        ("Host", f"127.0.0.1:{server.port}"), ("Content-Type", "application/json"),
        ("Stripe-Signature", "t=1,v1=abc"), ("X-Empty", ""), ("Content-Length", str(len(body))),
    ], body)
    assert_identical(replayed(server, original, tmp_path), original)


def test_a_binary_body_with_nul_bytes_comes_back_identical(server, inbox, tmp_path):
    body = bytes(range(256)) + b"%s\\'\x00"
    original = send_raw(server, f"/in/{inbox.ingest_token}", "PUT", [
        ("Host", f"127.0.0.1:{server.port}"), ("Content-Type", "application/octet-stream"),
        ("User-Agent", "uploader/2"), ("Accept", "*/*"), ("Content-Length", str(len(body))),
    ], body)
    assert "printf" in as_curl(original, inbox.ingest_url)
    assert_identical(replayed(server, original, tmp_path), original)


def test_a_body_starting_with_an_at_sign_is_sent_not_read_as_a_file(server, inbox, tmp_path):
    body = b"@/etc/passwd"
    original = send_raw(server, f"/in/{inbox.ingest_token}", "POST", [
        ("Host", f"127.0.0.1:{server.port}"), ("Content-Length", str(len(body))),
    ], body)
    assert_identical(replayed(server, original, tmp_path), original)


def test_a_get_without_a_body_comes_back_without_one(server, inbox, tmp_path):
    original = send_raw(server, f"/in/{inbox.ingest_token}?challenge=abc", "GET", [
        ("Host", f"127.0.0.1:{server.port}"), ("X-Probe", "1"),
    ], b"")
    assert "--data-binary" not in as_curl(original, inbox.ingest_url)
    assert_identical(replayed(server, original, tmp_path), original)


def test_a_large_body_is_read_from_the_raw_download(server, inbox, tmp_path):
    body = b"\xff" * 100_000
    original = send_raw(server, f"/in/{inbox.ingest_token}", "POST", [
        ("Host", f"127.0.0.1:{server.port}"), ("Content-Length", str(len(body))),
    ], body)
    command = as_curl(original, inbox.ingest_url)
    assert f"--data-binary @{original.public_id}.bin" in command
    (tmp_path / f"{original.public_id}.bin").write_bytes(body)  # what "Download raw" saves
    assert_identical(replayed(server, original, tmp_path), original)
