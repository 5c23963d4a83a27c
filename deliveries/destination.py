"""What a forwarded request looks like: its URL and the headers it carries.

Plain functions with no I/O, shared by everything that forwards an event
(first attempts, retries, replays) and by ingest, which refuses a sub-path
that would climb out of the destination's path before it is ever stored.

The sub-path is kept in its percent-encoded form from ingest to the wire:
`%2F`, `%3F` and `%23` stay encoded, so a sender can neither split a path
segment, nor inject query parameters, nor turn the destination's own query
into a fragment that is never sent.
"""

import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote_from_bytes, unquote, urlsplit, urlunsplit

# Forwards this request has already been through, Hookline to Hookline. Each
# forward adds one; ingest refuses a request at MAX_FORWARD_HOPS, so a loop
# through other installations stops.
HOPS_HEADER = "x-hookline-hops"

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    # Ours to set; a sender's copies would be confused with our signature.
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    HOPS_HEADER,
}

# RFC 3986 pchar (and "/") that may appear as they are; "%" only when it
# starts an escape, which is then kept exactly as the sender wrote it.
_PATH_SAFE = b"/:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + b"?"
_ESCAPE = re.compile(rb"%[0-9A-Fa-f]{2}")
_ALREADY_SAFE = re.compile(rb"[A-Za-z0-9/:@!$&'()*+,;=._~-]*")
_DOTS = {".", ".."}
_SEPARATORS = re.compile(r"[/\\]")


def _encode(raw: bytes, safe: bytes) -> str:
    parts: list[str] = []
    position = 0
    for escape in _ESCAPE.finditer(raw):
        parts.append(quote_from_bytes(raw[position : escape.start()], safe))
        parts.append(escape.group().decode("ascii"))
        position = escape.end()
    parts.append(quote_from_bytes(raw[position:], safe))
    return "".join(parts)


def encode_sub_path(raw: bytes | str) -> str:
    """The sub-path as ASCII, percent-encoded wherever it must be.

    Bytes come from ingest (the ASGI `raw_path`). A str is a stored sub-path;
    rows stored before ingest kept `raw_path` hold it decoded, so anything
    that is not a path character is encoded again (as UTF-8).
    """
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if _ALREADY_SAFE.fullmatch(data):  # the common case, on the ingest hot path
        return data.decode("ascii")
    return _encode(data, _PATH_SAFE)


def _encode_query(query: str) -> str:
    # Ingest stores the query string decoded as latin-1: encode it back the same way.
    try:
        data = query.encode("latin-1")
    except UnicodeEncodeError:
        data = query.encode("utf-8")
    return _encode(data, _QUERY_SAFE)


def _decoded_fully(segment: str) -> str:
    # Some servers decode twice; a few rounds reach what any of them would see.
    for _ in range(3):
        decoded = unquote(segment)
        if decoded == segment:
            break
        segment = decoded
    return segment


def _hides_dots(decoded: str) -> bool:
    # Servers split on "\\" as well as "/", and Tomcat reads "..;x" as "..".
    return any(piece.split(";", 1)[0] in _DOTS for piece in _SEPARATORS.split(decoded))


def hides_dot_segment(segment: str) -> bool:
    """Whether a destination server could read this segment as `.` or `..`.

    Counts `%2e%2e`, a `..` behind an encoded `/` or a backslash, and
    Tomcat's `..;params`, not only a plain `..`.
    """
    return _hides_dots(_decoded_fully(segment))


def sub_path_problem(sub_path: str) -> str | None:
    """Why an encoded sub-path may not be forwarded (ingest answers 400), or None."""
    if "." not in sub_path and "%" not in sub_path:
        return None  # no dot and no escape: nothing to hide a dot segment or a NUL in
    # Decoding the whole path at once also splits at an encoded "/", as a
    # server that decodes before routing would.
    decoded = _decoded_fully(sub_path) if "%" in sub_path else sub_path
    if _hides_dots(decoded):
        return "the sub-path may not contain dot segments (. or .., encoded or not)"
    if "\x00" in decoded:
        return "the sub-path contains a NUL byte"
    return None


def _resolve_inside(segments: list[str]) -> list[str]:
    # Only for rows stored before ingest refused dot segments: `..` removes a
    # segment of the sub-path but never one of the destination's own path.
    kept: list[str] = []
    for segment in segments:
        if _decoded_fully(segment) == "..":
            if kept:
                kept.pop()
        elif not hides_dot_segment(segment):
            kept.append(segment)
    return kept


def destination_for(destination_url: str, sub_path: str, query: str) -> str:
    """The destination URL extended with an event's sub-path and query.

    `/in/<t>/a?x=1` goes to `<destination>/a?x=1`; the destination's own
    query comes first and its fragment is dropped (never sent anyway).
    """
    parts = urlsplit(destination_url)
    path = parts.path
    sub = encode_sub_path(sub_path).lstrip("/")
    if sub:
        sub = "/".join(_resolve_inside(sub.split("/")))
        path = path.rstrip("/") + "/" + sub
    joined_query = "&".join(q for q in (parts.query, _encode_query(query) if query else "") if q)
    return urlunsplit((parts.scheme, parts.netloc, path or "/", joined_query, ""))


def hops_of(headers: Iterable[Sequence[str]]) -> int:
    """Forwards a request has been through, from its highest valid hops header."""
    hops = 0
    for name, value in headers:
        value = value.strip()
        if name.lower() == HOPS_HEADER and value.isascii() and value.isdigit():
            hops = max(hops, int(value[:6]))
    return hops


def forwarded_headers(original: list[list[str]]) -> dict[str, str]:
    """The sender's headers less hop-by-hop ones, plus our hop count."""
    headers: dict[str, str] = {}
    for name, value in original:
        lower = name.lower()
        if lower in HOP_BY_HOP:
            continue
        # requests takes one value per name; repeated headers fold with ", "
        # as RFC 9110 allows for list-valued fields.
        headers[lower] = f"{headers[lower]}, {value}" if lower in headers else value
    headers[HOPS_HEADER] = str(hops_of(original) + 1)
    return headers
