"""Reading a request body in the bare ASGI paths (`/in/` and `/m/`), bounded.

Both skip Django's request cycle for speed, so neither gets its upload
limits: this stops reading as soon as a body passes the limit, instead of
buffering whatever a sender offers.
"""


def declared_over(scope, limit: int) -> bool:
    """Whether the request's Content-Length alone passes `limit`.

    A malformed Content-Length is left to the server; the reader's running
    count enforces the limit whatever the header claims."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.isdigit() and int(value) > limit
    return False


async def read_body(scope, receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes."""
    if declared_over(scope, limit):
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
