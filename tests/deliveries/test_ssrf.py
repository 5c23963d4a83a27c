import ipaddress

import pytest

from deliveries.ssrf import BlockedDestination, check_url, refusal_reason, resolve_checked


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "0.0.0.0", "169.254.169.254",
        "169.254.1.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254",
        "::ffff:127.0.0.1", "::ffff:8.8.8.8", "2002:7f00:1::", "ff02::1", "168.63.129.16", "fec0::1",
        "fd20:ce::254", "64:ff9b::808:808", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ],
)
def test_it_refuses_non_global_addresses_by_default(address):
    assert refusal_reason(ipaddress.ip_address(address), allow_private=False) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_it_allows_global_addresses(address):
    assert refusal_reason(ipaddress.ip_address(address), allow_private=False) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "192.168.0.10", "::1", "fd12::1"])
def test_private_destinations_open_up_when_allowed(address):
    assert refusal_reason(ipaddress.ip_address(address), allow_private=True) is None


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "0.0.0.0", "168.63.129.16",
     "fd20:ce::254", "fec0::1", "64:ff9b::7f00:1"],
)
def test_metadata_and_unspecified_addresses_stay_refused_when_private_is_allowed(address):
    assert refusal_reason(ipaddress.ip_address(address), allow_private=True) is not None


def test_a_name_resolving_to_loopback_is_refused(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = False
    with pytest.raises(BlockedDestination):
        resolve_checked("localhost", 80)


def test_check_url_explains_what_is_wrong(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = False
    assert "http and https" in check_url("ftp://example.test/")
    assert "no host" in check_url("http:///path")
    assert "private or loopback" in check_url("http://127.0.0.1:9000/hook")
    assert "metadata" in check_url("http://169.254.169.254/latest/meta-data/")
    assert check_url("http://example.invalid/") is None  # resolvable later; checked again at connect


@pytest.mark.parametrize("url", ["http://[::1", "http://a..b.test/", "http://" + "a" * 64 + ".example.test/"])
def test_a_malformed_url_is_explained_not_raised(url):
    assert "not valid" in check_url(url)
