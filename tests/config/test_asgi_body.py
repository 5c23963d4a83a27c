"""The ingest path reads a body only up to the limit, whatever the sender claims."""

import asyncio

from config.asgi_body import read_body


def read(chunks: list[bytes], limit: int, headers=()) -> tuple[bytes | None, int]:
    consumed = 0

    async def receive() -> dict:
        nonlocal consumed
        consumed += 1
        more = consumed < len(chunks)
        return {"type": "http.request", "body": chunks[consumed - 1], "more_body": more}

    body = asyncio.run(read_body({"headers": list(headers)}, receive, limit))
    return body, consumed


def test_it_stops_at_the_chunk_that_passes_the_limit():
    body, consumed = read([b"x" * 10] * 100, limit=25)
    assert body is None
    assert consumed == 3  # 10 + 10 + 10 > 25: the remaining 97 chunks are never read


def test_it_refuses_on_content_length_before_reading_anything():
    body, consumed = read([b"x" * 10], limit=5, headers=[(b"content-length", b"500")])
    assert body is None and consumed == 0


def test_a_body_at_the_limit_is_kept_whole():
    body, consumed = read([b"ab", b"cd", b"e"], limit=5)
    assert body == b"abcde" and consumed == 3


def test_a_malformed_content_length_is_left_to_the_running_count():
    body, _ = read([b"abc"], limit=5, headers=[(b"content-length", b"lots")])
    assert body == b"abc"
