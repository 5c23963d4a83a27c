"""Keeps every Python process of the test suite on this machine.

The test process installs it from conftest; the processes the tests start
(web, worker, beat, `make run`) find this directory on PYTHONPATH, and Python
imports `sitecustomize` at start-up. From then on:

- a host name resolves only when it is `localhost` (or `*.localhost`) or an IP
  literal; any other name fails as unknown *without asking a DNS server*, so a
  destination such as `hooks.example.test` is an unresolvable host, not a
  query leaving the machine;
- a TCP/UDP connect succeeds only to a loopback address; anything else fails
  with "network is unreachable", so even an IP literal cannot reach out.

Hookline's own code runs unchanged: this is the operating-system boundary a
sandbox would draw, not a fake of the HTTP stack.
"""

from __future__ import annotations

import errno
import ipaddress
import socket

_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_LOOPBACK = ("127.0.0.1", "::1")


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def offline_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's own names
    if host is None:
        return _real_getaddrinfo(host, port, family, type, proto, flags)
    if isinstance(host, str):
        host.encode("idna")  # raises UnicodeError for a malformed name, as the real lookup does
    name = (host.decode("idna") if isinstance(host, bytes) else str(host)).rstrip(".").lower()
    if _literal(name) is not None:
        return _real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
    if name == "localhost" or name.endswith(".localhost"):
        answers = []
        for address in _LOOPBACK:
            try:
                answers += _real_getaddrinfo(address, port, family, type, proto, flags | socket.AI_NUMERICHOST)
            except socket.gaierror:
                continue  # e.g. ::1 asked for AF_INET only
        if answers:
            return answers
    raise socket.gaierror(socket.EAI_NONAME, f"{name}: unknown host (the test suite resolves no public names)")


def _allowed(sock: socket.socket, address) -> bool:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return True
    ip = _literal(str(address[0]))
    if ip is None:
        return False  # a name here would bypass getaddrinfo; never expected
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def offline_connect(self: socket.socket, address) -> None:
    if not _allowed(self, address):
        raise OSError(errno.ENETUNREACH, f"{address[0]}: the test suite reaches loopback addresses only")
    return _real_connect(self, address)


def offline_connect_ex(self: socket.socket, address) -> int:
    if not _allowed(self, address):
        return errno.ENETUNREACH
    return _real_connect_ex(self, address)


def install() -> None:
    socket.getaddrinfo = offline_getaddrinfo
    socket.socket.connect = offline_connect
    socket.socket.connect_ex = offline_connect_ex


install()
