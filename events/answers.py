"""Answers ingest sends instead of its usual one (handshakes, rejections, duplicates)."""

import json
from dataclasses import dataclass
from typing import Any

JSON = b"application/json"
TEXT = b"text/plain; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: bytes = JSON
    headers: tuple[tuple[bytes, bytes], ...] = ()  # beyond content type and length


def json_answer(status: int, payload: dict[str, Any]) -> Answer:
    return Answer(status, json.dumps(payload).encode())


def text_answer(text: str) -> Answer:
    return Answer(200, text.encode(), TEXT)
