"""The outbound module against real sockets: one total deadline per attempt,
TLS checks on the checked address, no proxies, a capped answer."""

import socket
import time

import pytest

from deliveries import outbound, ssrf
from deliveries.models import Outcome
from tests.support import sockets
from tests.support.receiver import Receiver


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True


def timed_send(url: str, timeout: float) -> tuple[outbound.Response, float]:
    started = time.monotonic()
    response = outbound.send("POST", url, {"content-type": "application/json"}, b"{}", timeout)
    return response, time.monotonic() - started


@pytest.mark.parametrize("timeout", [1, 2])
def test_a_destination_trickling_its_headers_is_cut_off_at_the_timeout(timeout):
    with sockets.RawServer(sockets.trickle_headers(0.2)) as trickler:
        response, took = timed_send(trickler.url + "/hook", timeout)
    assert response.outcome == Outcome.TIMEOUT
    assert f"within {timeout} s" in response.error
    assert timeout - 0.1 < took < timeout + 1


def test_a_slow_dns_answer_counts_against_the_deadline(monkeypatch):
    def slow_lookup(*args, **kwargs):
        time.sleep(3)
        return socket.getaddrinfo("127.0.0.1", 9, type=socket.SOCK_STREAM)

    monkeypatch.setattr(ssrf, "getaddrinfo", slow_lookup)
    response, took = timed_send("http://slow-dns.test:9/", 1)
    assert response.outcome == Outcome.TIMEOUT
    assert took < 2


def test_a_stalled_tls_handshake_counts_against_the_deadline():
    with sockets.RawServer(sockets.silent) as silent:
        response, took = timed_send(f"https://127.0.0.1:{silent.port}/", 1)
    assert response.outcome == Outcome.TIMEOUT
    assert took < 2


def test_tls_names_the_host_and_checks_its_certificate_on_the_checked_address(tmp_path):
    names: list[str] = []
    with sockets.RawServer(sockets.ok, tls=sockets.self_signed_tls(tmp_path, names)) as server:
        response = outbound.send("POST", f"https://localhost:{server.port}/", {}, b"", 2)
    # Connected to the address the guard checked, with the host's name for SNI,
    # and the self-signed certificate was refused.
    assert names == ["localhost"]
    assert response.outcome == Outcome.CONNECTION_ERROR
    assert "certificate verify failed" in response.error


def test_proxies_from_the_environment_are_ignored(monkeypatch):
    with Receiver() as proxy, Receiver() as destination:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        response = outbound.send("POST", destination.url + "/direct", {}, b"{}", 2)
        assert response.outcome == Outcome.SUCCESS
        assert [r.path for r in destination.requests] == ["/direct"]
        assert proxy.requests == []


def test_a_huge_answer_is_read_up_to_64_kib_only():
    with sockets.RawServer(sockets.huge_body(10 * 1024 * 1024)) as server:
        response, took = timed_send(server.url, 5)
    assert response.outcome == Outcome.SUCCESS
    assert len(response.body) == 64 * 1024
    assert took < 5


def test_a_garbage_status_line_is_a_connection_error_with_the_reason():
    with sockets.RawServer(sockets.garbage_status) as server:
        response = outbound.send("POST", server.url, {}, b"", 2)
    assert response.outcome == Outcome.CONNECTION_ERROR
    assert "status" in response.error.lower() or "BadStatusLine" in response.error
