"""The SSRF guard on the connect path: what a forwarded attempt may reach,
with a resolver the test controls standing in for DNS."""

import socket

import pytest
from django.utils import timezone

from deliveries import ssrf
from deliveries.engine import deliver_due
from deliveries.models import Outcome
from deliveries.ssrf import check_url
from endpoints.models import Endpoint
from events.models import Event

pytestmark = pytest.mark.django_db


class Resolver:
    """Answers each lookup with the next scripted address (the last repeats)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)
        self.lookups: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.lookups.append(host)
        address = self.addresses.pop(0) if len(self.addresses) > 1 else self.addresses[0]
        return socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)


def deliver(endpoint: Endpoint):
    event = Event.objects.create(
        endpoint=endpoint, method="POST", body=b"{}", received_at=timezone.now(), next_attempt_at=timezone.now()
    )
    [attempt] = [a for a in deliver_due() if a.event_id == event.pk]
    return attempt


def test_a_name_public_at_save_and_private_at_send_is_refused_at_send(alice, receiver, monkeypatch, settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = False
    port = receiver.url.rsplit(":", 1)[1]
    resolver = Resolver("93.184.215.14", "127.0.0.1")
    monkeypatch.setattr(ssrf, "getaddrinfo", resolver)
    url = f"http://rebind.test:{port}/hook"
    assert check_url(url) is None  # public when the endpoint is saved
    endpoint = Endpoint.objects.create(owner=alice, name="Rebind", destination_url=url)
    attempt = deliver(endpoint)
    assert attempt.outcome == Outcome.BLOCKED
    assert "private or loopback" in attempt.error
    assert resolver.lookups == ["rebind.test", "rebind.test"]
    assert receiver.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(alice, receiver, monkeypatch, settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True
    port = receiver.url.rsplit(":", 1)[1]
    # A second lookup would answer a metadata address; there must be none.
    resolver = Resolver("127.0.0.1", "169.254.169.254")
    monkeypatch.setattr(ssrf, "getaddrinfo", resolver)
    endpoint = Endpoint.objects.create(owner=alice, name="Once", destination_url=f"http://checked-once.test:{port}/")
    attempt = deliver(endpoint)
    assert attempt.outcome == Outcome.SUCCESS
    assert resolver.lookups == ["checked-once.test"]
    assert receiver.requests[0].header("host") == f"checked-once.test:{port}"


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "0177.0.0.1", "127.1", "0x7f000001"])
def test_legacy_spellings_of_loopback_are_refused_at_save_and_at_send(host, alice, receiver, settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = False
    port = receiver.url.rsplit(":", 1)[1]
    url = f"http://{host}:{port}/hook"
    assert "private or loopback" in check_url(url)
    endpoint = Endpoint.objects.create(owner=alice, name="Legacy", destination_url=url)
    attempt = deliver(endpoint)
    assert attempt.outcome == Outcome.BLOCKED
    assert receiver.requests == []


@pytest.mark.parametrize(
    "address, reason",
    [
        ("64:ff9b::7f00:1", "NAT64"),  # NAT64 of 127.0.0.1
        ("64:ff9b:1::a9fe:a9fe", "NAT64"),  # local-use NAT64 of 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "tunnelled"),  # Teredo
        ("2002:7f00:1::", "tunnelled"),  # 6to4 of 127.0.0.1
        ("fec0::1", "site-local"),
    ],
)
def test_translated_and_tunnelled_ipv6_answers_are_refused_at_send(address, reason, alice, monkeypatch, settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True
    monkeypatch.setattr(ssrf, "getaddrinfo", Resolver(address))
    endpoint = Endpoint.objects.create(owner=alice, name="V6", destination_url="http://v6.test/hook")
    attempt = deliver(endpoint)
    assert attempt.outcome == Outcome.BLOCKED
    assert reason in attempt.error


@pytest.mark.parametrize("address", ["169.254.169.254", "168.63.129.16", "fd20:ce::254", "fd00:ec2::254"])
def test_metadata_is_refused_at_send_even_with_private_destinations_allowed(address, alice, monkeypatch, settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True
    monkeypatch.setattr(ssrf, "getaddrinfo", Resolver(address))
    endpoint = Endpoint.objects.create(owner=alice, name="Meta", destination_url="http://metadata.test/latest")
    attempt = deliver(endpoint)
    assert attempt.outcome == Outcome.BLOCKED
    assert "metadata" in attempt.error
