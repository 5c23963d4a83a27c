"""uvicorn's HTTP/1.1 protocol, with ingest requests answered in place.

Under uvicorn every request is an ASGI task: a scope, a task, two `receive`
and two `send` coroutines, and two writes for the answer. For `/in/` that
bookkeeping cost more CPU than storing the webhook (make bench, wrk -c32 on
2 cores: uvicorn alone answering a constant took ~80 us of server CPU per
request through ASGI and ~32 us from its protocol). Here an ingest request
skips the task: the body is taken from uvicorn's request cycle as the parser
hands it over, the arrival goes to the batcher with a callback, and the
answer leaves in one write. Everything else (the dashboard, the API,
WebSockets, pipelining, keep-alive, flow control, graceful shutdown) stays
uvicorn's own. The ASGI callable `events.ingest.receive_webhook` remains
the one path for every other server.

`make run` selects it with `--http events.ingest_http:IngestHttpProtocol`.
It leans on uvicorn's `HttpToolsProtocol` internals (pinned in
pyproject.toml): `_start_asgi_task` and the cycle's `body`, `more_body`,
`message_event`, `response_complete`, `disconnected`, `keep_alive`,
`waiting_for_100_continue` and `on_response`. tests/events/test_ingest_http.py
holds it to that.
"""

import logging
from datetime import UTC, datetime

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from config.asgi import for_ingest
from config.asgi_body import declared_over
from config.hot_settings import hot
from events import ingest
from events.answers import Answer

log = logging.getLogger(__name__)

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_INTERNAL_ERROR = Answer(500, b"Internal Server Error", b"text/plain; charset=utf-8", ingest.CLOSE)


async def _keep_scope(scope, receive, send) -> None:
    """The innermost app of `_proxied`: the middleware rewrote the scope."""


def _with_proxy_headers(middleware: ProxyHeadersMiddleware, scope: dict) -> None:
    """Applies uvicorn's X-Forwarded-For/-Proto rules to `scope` in place,
    as the ASGI path does (the middleware never awaits anything here)."""
    step = middleware(scope, None, None)
    try:
        step.send(None)
    except StopIteration:
        return
    step.close()
    raise RuntimeError("uvicorn's proxy-headers middleware awaited")


def _forwarded(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, _ in headers:
        if name.startswith(b"x-forwarded-"):
            return True
    return False


class IngestHttpProtocol(HttpToolsProtocol):
    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._proxied = (
            ProxyHeadersMiddleware(_keep_scope, trusted_hosts=config.forwarded_allow_ips) if config.proxy_headers else None
        )

    def _start_asgi_task(self, cycle, app) -> None:
        # `app` is uvicorn's 503 callable when the concurrency limit is hit.
        if app is self.app and for_ingest(cycle.scope):
            if self._proxied is not None and _forwarded(cycle.scope["headers"]):
                _with_proxy_headers(self._proxied, cycle.scope)
            IngestRequest(cycle).start()
        else:
            super()._start_asgi_task(cycle, app)


class IngestRequest:
    """One ingest request on uvicorn's request cycle.

    It stands in for the cycle's `message_event`: uvicorn calls `set()`
    whenever body arrives, the body ends or the client goes away.
    """

    __slots__ = ("cycle", "received_at", "limit", "parsed", "chunks", "size", "reading")

    def __init__(self, cycle) -> None:
        self.cycle = cycle
        self.received_at = datetime.now(UTC)  # timezone.now() under USE_TZ, which is always on
        self.limit = hot("MAX_BODY_BYTES")
        self.parsed: tuple[str, str] | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.reading = True

    def start(self) -> None:
        cycle = self.cycle
        screened = ingest.screen(cycle.scope)
        if isinstance(screened, Answer):
            self.reading = False
            self.reply(screened)
            return
        if declared_over(cycle.scope, self.limit):
            self.reading = False
            self.reply(ingest.too_large())
            return
        self.parsed = screened
        if cycle.waiting_for_100_continue and cycle.more_body:
            cycle.waiting_for_100_continue = False
            cycle.transport.write(CONTINUE)
        cycle.message_event = self
        self.set()  # a pipelined request may have arrived whole already

    def set(self) -> None:
        if not self.reading:
            return
        cycle = self.cycle
        if cycle.disconnected:
            self.reading = False  # nothing is stored
            self.cycle = None
            return
        if cycle.body:
            self.size += len(cycle.body)
            if self.size > self.limit:
                self.reading = False
                self.reply(ingest.too_large())
                return
            self.chunks.append(bytes(cycle.body))
            cycle.body = bytearray()
            cycle.flow.resume_reading()
        if not cycle.more_body:
            self.reading = False
            body = b"".join(self.chunks)  # one chunk is returned as it is, not copied
            try:
                ingest.store_then(ingest.arrival_of(cycle.scope, self.parsed, body, self.received_at), self.reply)
            except Exception:
                log.exception("ingest could not take a webhook")
                self.reply(_INTERNAL_ERROR)

    def reply(self, answer: Answer) -> None:
        # The cycle holds this request as its `message_event` and this
        # request holds the cycle: letting go here frees both (and the
        # scope, the headers) by reference count. Left as a loop, every
        # request became garbage for the cyclic collector, whose passes
        # cost ~7 us of CPU per request (gc.callbacks under wrk -c32).
        cycle, self.cycle = self.cycle, None
        if cycle is None or cycle.disconnected or cycle.response_complete:
            return
        try:
            payload = _encode(answer, cycle)
        except Exception:
            log.exception("ingest could not encode its answer")
            payload = _encode(_INTERNAL_ERROR, cycle)
        cycle.response_started = cycle.response_complete = True
        cycle.transport.write(payload)
        if not cycle.keep_alive:
            cycle.transport.close()
        cycle.on_response()


_default_headers: tuple[list, bytes] = ([], b"")


def _defaults(headers: list[tuple[bytes, bytes]]) -> bytes:
    """uvicorn's `date` and `server` headers, encoded once per list (the
    server replaces the list once a second)."""
    global _default_headers
    if _default_headers[0] is not headers:
        _default_headers = (headers, b"".join(b"%s: %s\r\n" % pair for pair in headers))
    return _default_headers[1]


# The head of an answer with no headers of its own, by status, type and
# length: the default 200 (its event id is always as long) is built once.
_heads: dict[tuple, bytes] = {}


def _header_lines(answer: Answer) -> bytes:
    return b"".join(b"%s: %s\r\n" % pair for pair in ingest.answer_headers(answer))


def _head(answer: Answer) -> bytes:
    if answer.headers:
        return _header_lines(answer)
    shape = (answer.status, answer.content_type, len(answer.body))
    head = _heads.get(shape)
    if head is None:
        head = _header_lines(answer)
        if len(_heads) < 256:
            _heads[shape] = head
    return head


def _encode(answer: Answer, cycle) -> bytes:
    lines = [STATUS_LINE[answer.status], _defaults(cycle.default_headers), _head(answer)]
    if (b"connection", b"close") in answer.headers:
        cycle.keep_alive = False
    elif not cycle.keep_alive:
        lines.append(b"connection: close\r\n")
    lines.append(b"\r\n")
    if cycle.scope["method"] != "HEAD":
        lines.append(answer.body)
    return b"".join(lines)
