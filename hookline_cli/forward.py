"""Sending an event's request to a local target, byte for byte.

http.client rather than requests: requests folds repeated headers and adds
its own (User-Agent, Accept, Accept-Encoding); here the target gets the
sender's headers as they were, in order, less hop-by-hop ones.
"""

import fnmatch
import http.client
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from hookline_cli.api import Request

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length",
}
# The server's loop guard: every forward adds one, and a Hookline ingest
# refuses a request past its limit, so a target that is itself a Hookline
# ingest URL cannot make the CLI and the server forward to each other forever.
HOPS_HEADER = "x-hookline-hops"
TIMEOUT_SECONDS = 30
# Kept as they are in a path or query; "%" too, so the sender's escapes survive.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass
class Route:
    pattern: str
    url: str

    @classmethod
    def parse(cls, text: str) -> "Route":
        pattern, sep, url = text.partition("=")
        if not sep or not pattern or not url.startswith(("http://", "https://")):
            raise ValueError(f"--route wants GLOB=URL with an http(s) URL, got {text!r}")
        return cls(pattern, url)


def target_for(event_type: str | None, routes: list[Route], default: str | None) -> str | None:
    """The first route whose glob matches the event type, else the default."""
    if event_type is not None:
        for route in routes:
            if fnmatch.fnmatchcase(event_type, route.pattern):
                return route.url
    return default


def url_for(base: str, path: str, query: str) -> str:
    """`base` extended with the event's sub-path and query, as the server forwards."""
    parts = urlsplit(base)
    full = parts.path
    if path:
        full = full.rstrip("/") + "/" + quote(path.lstrip("/"), safe=_PATH_SAFE)
    queries = [q for q in (parts.query, quote(query.encode("latin-1", "replace"), safe=_QUERY_SAFE)) if q]
    return (full or "/") + ("?" + "&".join(queries) if queries else "")


def hops_of(headers: list[list[str]]) -> int:
    hops = 0
    for name, value in headers:
        if name.lower() == HOPS_HEADER and value.isascii() and value.isdigit():
            hops = max(hops, int(value[:6]))
    return hops


def outgoing_headers(headers: list[list[str]]) -> list[tuple[str, str]]:
    """The sender's headers in order, less hop-by-hop ones, with the hop count raised by one."""
    kept = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP | {HOPS_HEADER}]
    return [*kept, (HOPS_HEADER, str(hops_of(headers) + 1))]


@dataclass
class Outcome:
    status: int | None
    milliseconds: int
    error: str = ""


def forward(request: Request, base: str) -> Outcome:
    parts = urlsplit(base)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    started = time.monotonic()
    try:
        connection.putrequest(
            request.method, url_for(base, request.path, request.query), skip_host=True, skip_accept_encoding=True
        )
        connection.putheader("Host", parts.netloc)
        for name, value in outgoing_headers(request.headers):
            connection.putheader(name, value.encode("latin-1", "replace"))
        connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body)
        response = connection.getresponse()
        response.read()
        return Outcome(response.status, _since(started))
    except ConnectionRefusedError:
        return Outcome(None, _since(started), f"{parts.netloc} refused the connection")
    except TimeoutError:
        return Outcome(None, _since(started), f"{parts.netloc} did not answer within {TIMEOUT_SECONDS} s")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, _since(started), f"{parts.netloc}: {exc.__class__.__name__}: {exc}")
    finally:
        connection.close()


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
