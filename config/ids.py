"""Public identifiers: a type prefix and 24 random base-36 characters (~124 bits)."""

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def random_token(length: int = 24) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str) -> str:
    return f"{prefix}_{random_token()}"
