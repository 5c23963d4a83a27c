"""The one module that opens outbound sockets: forwarding, replay and alerts.

Every request goes through an aiohttp session built here. Its resolver looks
each destination name up once and keeps only the addresses `ssrf` allows;
aiohttp then connects to exactly those addresses (the TLS handshake still
names the host, so SNI and certificate checks are the usual ones). Literal
addresses, including legacy IPv4 spellings such as `2130706433` or `0x7f.1`,
are checked before the request. Redirects are never followed, proxies from
the environment are ignored, cookies are never kept, at most
RESPONSE_BODY_LIMIT bytes of an answer are read, and one wall-clock deadline
covers the whole attempt: DNS, connect, TLS, headers and body.

`send_async` is what the forwarding engine uses inside its event loop;
`send` is the same for one-off callers in ordinary threads (replay to
another URL, notifications).
"""

import asyncio
import atexit
import base64
import contextlib
import hashlib
import hmac
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from django.conf import settings
from yarl import URL

from deliveries.ssrf import BlockedDestination, refusal_reason, resolve_checked

class _CheckedResolver(AbstractResolver):
    """One lookup per new connection; refused addresses never reach aiohttp."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        infos = await asyncio.get_running_loop().run_in_executor(None, resolve_checked, host, port)
        return [
            ResolveResult(
                hostname=host, host=address[0], port=address[1], family=family_, proto=proto,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for family_, _type, proto, _name, address in infos
        ]

    async def close(self) -> None:
        return None


def new_session() -> aiohttp.ClientSession:
    """A pooled session for the running event loop (keep-alive per destination)."""
    connector = aiohttp.TCPConnector(
        resolver=_CheckedResolver(), use_dns_cache=False, limit=0, limit_per_host=0, keepalive_timeout=30,
    )
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=False,  # no proxies from the environment: they would bypass the guard
        cookie_jar=aiohttp.DummyCookieJar(),  # one destination's cookies must never reach another
        timeout=aiohttp.ClientTimeout(total=None),  # send_async's own deadline covers everything
    )


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks `webhook-signature` value for one message."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    timeout: float


@dataclass
class Response:
    outcome: str
    status_code: int | None = None
    headers: list[list[str]] = field(default_factory=list)
    body: bytes = b""
    error: str = ""
    duration_ms: int = 0
    retry_after: int | None = None


def _literal_refusal(host: str) -> str | None:
    """Why a host written as an address is refused (names go to the resolver)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        try:
            # inet_aton reads the legacy forms (2130706433, 0x7f.1, 0177.0.0.1,
            # 127.1) exactly as the C library would when connecting.
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    reason = refusal_reason(ip)
    return f"{host}: {reason}" if reason else None


async def send_async(session: aiohttp.ClientSession, request: Request) -> Response:
    """Send one request; every failure comes back as a Response, never raised."""
    from deliveries.models import Outcome

    method, url, headers, body, timeout = request.method, request.url, request.headers, request.body, request.timeout
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    seen = _Seen()
    try:
        target = URL(url, encoded=True)
        refused = _literal_refusal(target.raw_host or "")
        if refused:
            return Response(outcome=Outcome.BLOCKED, error=refused)
        async with asyncio.timeout(timeout):
            async with session.request(method, target, headers=headers, data=body, allow_redirects=False) as answer:
                seen.answer = answer
                await _read_limited(answer.content, settings.RESPONSE_BODY_LIMIT, seen.chunks)
                if not answer.content.at_eof():
                    answer.close()  # unread bytes left: this connection cannot be reused
        outcome = Outcome.SUCCESS if 200 <= answer.status < 300 else Outcome.HTTP_ERROR
        return seen.response(outcome, "" if outcome == Outcome.SUCCESS else _http_error(answer), elapsed())
    except BlockedDestination as exc:
        return Response(outcome=Outcome.BLOCKED, error=str(exc), duration_ms=elapsed())
    except TimeoutError:
        # What did arrive before the deadline is kept: it helps to see where it stalled.
        return seen.response(Outcome.TIMEOUT, f"no complete answer within {timeout:g} s", elapsed())
    except Exception as exc:  # a destination must never be able to crash the worker
        return seen.response(Outcome.CONNECTION_ERROR, _describe(exc), elapsed())


@dataclass
class _Seen:
    """What arrived of an answer, kept even when the deadline cuts it short."""

    answer: aiohttp.ClientResponse | None = None
    chunks: list[bytes] = field(default_factory=list)

    def response(self, outcome: str, error: str, duration_ms: int) -> Response:
        answer = self.answer
        if answer is None:
            return Response(outcome=outcome, error=error, duration_ms=duration_ms)
        return Response(
            outcome=outcome,
            status_code=answer.status,
            # Raw bytes as latin-1, like the ingest side: any byte survives as text.
            headers=[[k.decode("latin-1"), v.decode("latin-1")] for k, v in answer.raw_headers],
            body=b"".join(self.chunks),
            error=error,
            duration_ms=duration_ms,
            retry_after=_retry_after(answer),
        )


async def _read_limited(content: aiohttp.StreamReader, limit: int, chunks: list[bytes]) -> None:
    """Up to `limit` bytes of the body into `chunks`, as they arrive."""
    size = 0
    while size < limit:
        chunk = await content.read(limit - size)
        if not chunk:
            return
        chunks.append(chunk)
        size += len(chunk)


def _http_error(answer: aiohttp.ClientResponse) -> str:
    if 300 <= answer.status < 400:
        return f"HTTP {answer.status}: redirects are not followed (Location: {answer.headers.get('location', '')})"
    return f"HTTP {answer.status}"


def _retry_after(answer: aiohttp.ClientResponse) -> int | None:
    if answer.status not in (429, 503):
        return None
    raw = answer.headers.get("retry-after", "").strip()
    if raw.isascii() and raw.isdigit():
        return int(raw[:9])  # beyond any schedule's bound either way
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0, int(when.timestamp() - time.time()))


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    return f"{exc.__class__.__name__}: {text}"


# One-off sends from ordinary threads share one event loop and session per
# process, so they pool connections like the engine does.
_loop: asyncio.AbstractEventLoop | None = None
_session: aiohttp.ClientSession | None = None
_loop_lock = threading.Lock()


def _one_off_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="outbound-one-off", daemon=True).start()
            atexit.register(_close_one_off)
        return _loop


def _close_one_off() -> None:
    if _loop is not None and _session is not None:
        with contextlib.suppress(Exception):  # exiting anyway; only the warning is avoided
            asyncio.run_coroutine_threadsafe(_session.close(), _loop).result(2)


def _shared_session() -> aiohttp.ClientSession:
    global _session
    if _session is None:
        _session = new_session()
    return _session


async def _send_all(requests: list[Request]) -> list[Response]:
    session = _shared_session()
    return list(await asyncio.gather(*(send_async(session, request) for request in requests)))


def send(method: str, url: str, headers: dict[str, str], body: bytes, timeout: float) -> Response:
    """`send_async` for callers outside an event loop; same guarantees."""
    return send_many([Request(method, url, headers, body, timeout)])[0]


def send_many(requests: list[Request]) -> list[Response]:
    """Several requests at once from an ordinary thread, answers in order."""
    if not requests:
        return []
    future = asyncio.run_coroutine_threadsafe(_send_all(requests), _one_off_loop())
    return future.result(max(request.timeout for request in requests) + 5)
