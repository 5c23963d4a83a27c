"""Public identifiers: a type prefix and 24 random base-36 characters (~124 bits)."""

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def random_token(length: int = 24) -> str:
    # One uniform draw below 36**length written in base 36: the same
    # distribution as a choice per character, with one urandom read instead
    # of `length` (that was ~95 us per id on the ingest path).
    number = secrets.randbelow(36**length)
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 36)
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def new_id(prefix: str) -> str:
    return f"{prefix}_{random_token()}"
