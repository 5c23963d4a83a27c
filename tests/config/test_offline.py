"""No test reaches past this machine, in the test process or in the ones it starts."""

import errno
import socket

import pytest
import requests

from deliveries.models import DeliveryAttempt
from endpoints.models import Endpoint
from tests.support.processes import wait_until


def test_a_public_name_is_never_sent_to_a_dns_server():
    with pytest.raises(socket.gaierror, match="resolves no public names"):
        socket.getaddrinfo("example.com", 443)


def test_loopback_names_and_literals_still_resolve():
    assert {info[4][0] for info in socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)} <= {"127.0.0.1", "::1"}
    assert socket.getaddrinfo("192.0.2.1", 80, type=socket.SOCK_STREAM)[0][4][0] == "192.0.2.1"


def test_no_socket_connects_past_loopback():
    with socket.socket() as sock, pytest.raises(OSError) as refused:
        sock.connect(("192.0.2.1", 80))
    assert refused.value.errno == errno.ENETUNREACH


@pytest.mark.django_db(transaction=True)
def test_the_processes_the_tests_start_resolve_no_public_names(server, worker, alice):
    endpoint = Endpoint.objects.create(
        owner=alice, name="Out", destination_url="http://hooks.example.test/in", retry_schedule=[60]
    )
    answer = requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=b"{}", timeout=10)
    assert answer.status_code == 200
    attempt = wait_until(lambda: DeliveryAttempt.objects.filter(endpoint=endpoint).first(), timeout=30,
                         message="the worker's attempt")
    assert "resolves no public names" in attempt.error
