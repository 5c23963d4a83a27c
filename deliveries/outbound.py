"""The one module that opens outbound sockets: forwarding, replay and alerts.

It resolves each destination once, refuses addresses `ssrf` rejects, connects
to the checked address, never follows redirects, bounds every timeout and
reads at most RESPONSE_BODY_LIMIT bytes of the answer.
"""

import base64
import hashlib
import hmac
import socket
import time
from dataclasses import dataclass, field

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from deliveries.ssrf import BlockedDestination, resolve_checked


def _guarded_connect(conn: HTTPConnection) -> socket.socket:
    last_error: OSError | None = None
    for family, type_, proto, _, address in resolve_checked(conn._dns_host, conn.port):
        sock = socket.socket(family, type_, proto)
        try:
            for option in conn.socket_options or []:
                sock.setsockopt(*option)
            if conn.timeout is not None:
                sock.settimeout(conn.timeout)
            sock.connect(address)
            return sock
        except socket.timeout as exc:
            sock.close()
            raise ConnectTimeoutError(conn, f"connection to {conn.host} timed out") from exc
        except OSError as exc:
            sock.close()
            last_error = exc
    raise NewConnectionError(conn, f"cannot connect to {conn.host}: {last_error}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_connect(self)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_connect(self)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def _new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: they would bypass the guard
    adapter = _GuardedAdapter(pool_connections=50, pool_maxsize=20, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# One pooled session per process; requests' Session is safe to share for sends.
_session = _new_session()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks `webhook-signature` value for one message."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass
class Response:
    outcome: str
    status_code: int | None = None
    headers: list[list[str]] = field(default_factory=list)
    body: bytes = b""
    error: str = ""
    duration_ms: int = 0
    retry_after: int | None = None


def send(method: str, url: str, headers: dict[str, str], body: bytes, timeout: float) -> Response:
    """Send one request; every failure comes back as a Response, never raised."""
    from deliveries.models import Outcome

    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with _session.request(
            method, url, headers=headers, data=body, timeout=(timeout, timeout),
            allow_redirects=False, stream=True,
        ) as answer:
            captured = _read_limited(answer, settings.RESPONSE_BODY_LIMIT, started + timeout)
            outcome = Outcome.SUCCESS if 200 <= answer.status_code < 300 else Outcome.HTTP_ERROR
            return Response(
                outcome=outcome,
                status_code=answer.status_code,
                headers=[[k, v] for k, v in answer.headers.items()],
                body=captured,
                error="" if outcome == Outcome.SUCCESS else _http_error(answer),
                duration_ms=elapsed(),
                retry_after=_retry_after(answer),
            )
    except BlockedDestination as exc:
        return Response(outcome=Outcome.BLOCKED, error=str(exc), duration_ms=elapsed())
    except requests.Timeout as exc:
        return Response(outcome=Outcome.TIMEOUT, error=f"timed out after {timeout:g} s: {exc}", duration_ms=elapsed())
    except requests.RequestException as exc:
        return Response(outcome=Outcome.CONNECTION_ERROR, error=_root_cause(exc), duration_ms=elapsed())
    except Exception as exc:  # a destination must never be able to crash the worker
        return Response(outcome=Outcome.CONNECTION_ERROR, error=f"{exc.__class__.__name__}: {exc}", duration_ms=elapsed())


def _read_limited(answer: requests.Response, limit: int, deadline: float) -> bytes:
    # read1 returns whatever has arrived, so a destination trickling a byte
    # at a time is cut off at the deadline rather than after every 8 KiB.
    chunks, size = [], 0
    while size < limit and time.monotonic() < deadline:
        chunk = answer.raw.read1(min(8192, limit - size), decode_content=True)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:limit]  # decompressed chunks may overshoot


def _http_error(answer: requests.Response) -> str:
    if 300 <= answer.status_code < 400:
        return f"HTTP {answer.status_code}: redirects are not followed (Location: {answer.headers.get('location', '')})"
    return f"HTTP {answer.status_code}"


def _retry_after(answer: requests.Response) -> int | None:
    if answer.status_code not in (429, 503):
        return None
    raw = answer.headers.get("retry-after", "").strip()
    if raw.isascii() and raw.isdigit():
        return int(raw[:9])  # beyond any schedule's bound either way
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0, int(when.timestamp() - time.time()))


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        inner = exc.__cause__ or exc.__context__
        if isinstance(inner, BlockedDestination):
            return str(inner)
        exc = inner
    return str(exc)
