"""What ingest refuses from the request line and headers alone, before a
byte of the body is read or anything is stored."""

from config.hot_settings import hot
from deliveries.destination import HOPS_HEADER, hops_of, sub_path_problem

# Counted per header as on the wire: "name: value\r\n".
_HEADER_OVERHEAD = 4
_HOPS = HOPS_HEADER.encode()


def refusal(scope: dict, sub_path: str) -> tuple[int, str] | None:
    """(status, detail) when the request must be refused, else None."""
    query = scope.get("query_string", b"")
    url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + (len(query) + 1 if query else 0)
    if url_bytes > (limit := hot("MAX_URL_BYTES")):
        return 414, f"The URL is longer than the limit of {limit} bytes."
    problem = sub_path_problem(sub_path)
    if problem:
        return 400, f"This request cannot be stored: {problem}."
    # One pass over the headers: this runs for every webhook.
    size, hops_values = 0, []
    for name, value in scope["headers"]:
        size += len(name) + len(value) + _HEADER_OVERHEAD
        if name == _HOPS:
            hops_values.append((HOPS_HEADER, value.decode("latin-1")))
    if size > (limit := hot("MAX_HEADER_BYTES")):
        return 431, f"The headers are larger than the limit of {limit} bytes."
    hops = hops_of(hops_values) if hops_values else 0
    if hops >= (limit := hot("MAX_FORWARD_HOPS")):
        return 508, (
            f"Forwarding loop: this request has already been forwarded {hops} times "
            f"({HOPS_HEADER}); the limit is {limit}."
        )
    return None
