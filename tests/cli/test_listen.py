"""`hookline listen` as a real process against the real server.

The endpoints are inboxes (no destination), so everything a receiver gets
came through the CLI.
"""

import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

from endpoints.models import ApiKey, Endpoint
from tests.cli.support import Cli, run_once
from tests.support import processes
from tests.support.processes import free_port, wait_http, wait_until
from tests.support.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(alice) -> str:
    return ApiKey.issue(alice, "laptop")[1]


@pytest.fixture
def inbox(alice) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name="Stripe")


@pytest.fixture
def listen(server, key, tmp_path):
    started: list[Cli] = []

    def start(endpoint: str, *args: str) -> Cli:
        cli = Cli(["listen", endpoint, "--server", server.url, "--token", key, *args], tmp_path)
        started.append(cli)
        cli.wait_ready()
        return cli

    yield start
    for cli in started:
        cli.stop()


def send(base_url: str, endpoint: Endpoint, path: str = "", body: bytes = b"{}", headers=(("content-type", "application/json"),),
         method: str = "POST") -> str:
    """A raw request (repeated header names kept); the stored event's id."""
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
    connection.putrequest(method, f"/in/{endpoint.ingest_token}{path}")
    for name, value in headers:
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    answer = connection.getresponse()
    payload = answer.read()
    connection.close()
    assert answer.status == 200, payload
    return json.loads(payload)["event_id"]


def test_it_forwards_each_event_byte_for_byte(server, inbox, receiver, listen) -> None:
    cli = listen(inbox.public_id, "--forward-to", f"{receiver.url}/hooks")
    binary = bytes(range(256))

    binary_id = send(
        server.url, inbox, "/a/b?x=1&y=%20", binary, method="PUT",
        headers=[("Content-Type", "application/octet-stream"), ("X-Repeat", "one"), ("X-Repeat", "two")],
    )
    text = '{"type": "order.paid", "café": 1}'.encode()
    json_id = send(server.url, inbox, "/orders", text)

    first, second = receiver.wait_for(2)
    assert (first.method, first.path, first.body) == ("PUT", "/hooks/a/b?x=1&y=%20", binary)
    assert [value for name, value in first.headers if name.lower() == "x-repeat"] == ["one", "two"]
    assert first.header("content-type") == "application/octet-stream"
    assert first.header("host") == urlsplit(receiver.url).netloc
    assert (second.method, second.path, second.body) == ("POST", "/hooks/orders", text)
    wait_until(lambda: len(cli.lines_with("-> 200")) == 2, message="one line per event")
    lines = cli.lines_with("-> 200")
    assert binary_id in lines[0] and json_id in lines[1]
    assert all(line.rstrip().endswith(" ms") for line in lines)


def test_it_routes_by_event_type_first_match_wins(server, inbox, listen) -> None:
    with Receiver() as charges, Receiver() as github, Receiver() as rest:
        listen(
            inbox.public_id,
            "--route", f"charge.*={charges.url}/stripe",
            "--route", f"push={github.url}/gh",
            "--route", f"*={charges.url}/never",
            "--forward-to", rest.url,
        )

        send(server.url, inbox, body=b'{"type": "charge.succeeded"}')
        send(server.url, inbox, body=b"{}", headers=[("X-GitHub-Event", "push")])
        send(server.url, inbox, body=b"no type at all", headers=[("content-type", "text/plain")])

        assert [r.path for r in charges.wait_for(1)] == ["/stripe"]
        assert [r.header("x-github-event") for r in github.wait_for(1)] == ["push"]
        assert [r.body for r in rest.wait_for(1)] == [b"no type at all"]


def test_it_survives_a_server_restart_without_gap_or_duplicate(server, inbox, receiver, listen, tmp_path) -> None:
    # A second web process on the same database takes webhooks while the one
    # the CLI streams from is down, so those events surely land in the gap.
    port = free_port()
    other = processes.web(port, server.env, tmp_path).start()
    other_url = f"http://127.0.0.1:{port}"
    try:
        wait_http(other_url + "/in/ready-check")
        cli = listen(inbox.public_id, "--forward-to", receiver.url)
        for n in range(3):
            send(server.url, inbox, body=f'{{"n": {n}}}'.encode())
        receiver.wait_for(3)

        server.web.stop()
        for n in range(3, 6):
            send(other_url, inbox, body=f'{{"n": {n}}}'.encode())
        server.web.start()
        wait_http(server.url + "/in/ready-check")
        receiver.wait_for(6, timeout=60)
        # One more, live: the stream is back, and any duplicate would show before it.
        send(server.url, inbox, body=b'{"n": 6}')
        receiver.wait_for(7, timeout=30)
    finally:
        other.stop()

    assert [json.loads(r.body)["n"] for r in receiver.requests] == list(range(7))
    assert "reconnecting" in cli.err()


def test_a_refusing_local_target_is_reported_and_the_stream_goes_on(server, inbox, listen) -> None:
    port = free_port()
    cli = listen(inbox.public_id, "--forward-to", f"http://127.0.0.1:{port}/hooks")

    refused_id = send(server.url, inbox, body=b'{"first": true}')
    wait_until(lambda: cli.lines_with(refused_id), message="a line for the refused event")
    assert "not forwarded: 127.0.0.1:%d refused the connection" % port in cli.lines_with(refused_id)[0]

    with Receiver(port) as late:
        delivered_id = send(server.url, inbox, body=b'{"second": true}')
        assert [r.body for r in late.wait_for(1)] == [b'{"second": true}']
    wait_until(lambda: cli.lines_with(delivered_id), message="a line for the delivered event")
    assert cli.proc.poll() is None


def test_a_bad_token_is_one_clear_line(server, inbox) -> None:
    done = run_once(["listen", inbox.public_id, "--server", server.url, "--token", "hl_wrong", "--forward-to", "http://x/"])
    assert done.returncode == 2
    assert done.stderr == "hookline: the server refused the token (check --token or HOOKLINE_TOKEN)\n"


def test_an_unknown_endpoint_is_one_clear_line(server, key, bob) -> None:
    theirs = Endpoint.objects.create(owner=bob, name="Bob's")
    for endpoint in ("ep_doesnotexist000000000000", theirs.public_id):
        done = run_once(["listen", endpoint, "--server", server.url, "--token", key, "--forward-to", "http://x/"])
        assert done.returncode == 2
        assert done.stderr == f"hookline: unknown endpoint {endpoint}: not one of this token's endpoints\n"


def test_settings_come_from_the_environment_too(server, inbox, key, receiver, tmp_path) -> None:
    from tests.cli.support import cli_env

    env = cli_env() | {"HOOKLINE_SERVER": server.url, "HOOKLINE_TOKEN": key}
    cli = Cli(["listen", "*", "--forward-to", receiver.url], tmp_path, env=env)
    try:
        cli.wait_ready()
        send(server.url, inbox, body=b'{"via": "env"}')
        assert [r.body for r in receiver.wait_for(1)] == [b'{"via": "env"}']
    finally:
        cli.stop()
