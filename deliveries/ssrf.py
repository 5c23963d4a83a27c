"""Which addresses outbound requests may reach.

Every outbound socket in Hookline is opened through `deliveries.outbound`,
which checks each resolved address here and connects to that very address,
so a second DNS answer (rebinding) can never slip past the check.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services: refused even when private destinations are allowed.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, DigitalOcean, ...
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6 metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("168.63.129.16"),  # Azure WireServer (a public-looking address)
    ipaddress.ip_address("fd20:ce::254"),  # GCP IPv6 metadata (inside fc00::/7, so "private")
}

# IPv6 prefixes that carry an IPv4 address a gateway will reach for us, or
# that the ipaddress module does not classify as non-global everywhere.
TRANSLATED_NETWORKS = (
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64, well-known prefix (RFC 6052)
    ipaddress.ip_network("64:ff9b:1::/48"),  # NAT64, local-use prefix (RFC 8215)
)
SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, still routed inside some networks


# The resolver every check and every connection uses (tests swap in one
# they control to play DNS rebinding).
getaddrinfo = socket.getaddrinfo


class BlockedDestination(Exception):
    """The destination resolves to an address outbound requests may not reach."""


def refusal_reason(ip: IPAddress, allow_private: bool | None = None) -> str | None:
    """Why `ip` is refused, or None when it may be reached."""
    if allow_private is None:
        allow_private = settings.ALLOW_PRIVATE_DESTINATIONS
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "IPv4-mapped IPv6 addresses are refused"
        if ip.sixtofour is not None or ip.teredo is not None:
            return "tunnelled IPv6 addresses are refused"
        if any(ip in network for network in TRANSLATED_NETWORKS):
            return "NAT64 addresses are refused"
        if ip in SITE_LOCAL:
            return "site-local IPv6 addresses are refused"
    if ip in METADATA_ADDRESSES:
        return "cloud metadata addresses are refused"
    if ip.is_link_local:
        return "link-local addresses are refused"
    if ip.is_multicast or ip.is_unspecified:
        return "multicast and unspecified addresses are refused"
    if allow_private and (ip.is_loopback or ip.is_private):
        return None
    if ip.is_reserved:
        return "reserved addresses are refused"
    if ip.is_global:
        return None
    return f"{ip} is a private or loopback address (ALLOW_PRIVATE_DESTINATIONS is off)"


def resolve_checked(host: str, port: int) -> list[tuple]:
    """getaddrinfo() results for host, keeping only reachable addresses.

    Raises BlockedDestination when every address is refused.
    """
    try:
        infos = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror}") from exc
    allowed, reasons = [], []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        reason = refusal_reason(ip)
        if reason is None:
            allowed.append(info)
        else:
            reasons.append(reason)
    if not allowed:
        raise BlockedDestination(f"{host}: {reasons[0]}")
    return allowed


def check_url(url: str) -> str | None:
    """A reason the URL may not be used as a destination, or None.

    Names that do not resolve yet are accepted: DNS may be set up later and
    every attempt is checked again at connect time.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "the URL is not valid"
    if parts.scheme not in {"http", "https"}:
        return "only http and https destinations are supported"
    if not host:
        return "the URL has no host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "the URL has an invalid port"
    try:
        resolve_checked(host, port)
    except BlockedDestination as exc:
        return str(exc)
    except UnicodeError:  # e.g. an IDNA label over 63 characters
        return "the URL's host name is not valid"
    except OSError:
        return None
    return None
