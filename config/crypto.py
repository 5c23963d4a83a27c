"""Symmetric encryption for secrets we must read back (signing secrets).

The key is derived from SECRET_KEY, so rotating SECRET_KEY makes stored
signing secrets unreadable; `make run` keeps one per checkout for that reason.
"""

import base64
import functools
import hashlib

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet() -> Fernet:
    return _fernet_for(settings.SECRET_KEY)


@functools.lru_cache(maxsize=4)
def _fernet_for(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"hookline-secrets:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    # The engine signs every delivery with its endpoint's secret: deriving the
    # key and decrypting per request was a sixth of its database thread's CPU.
    return _decrypt(settings.SECRET_KEY, token)


@functools.lru_cache(maxsize=4096)
def _decrypt(secret_key: str, token: str) -> str:
    return _fernet_for(secret_key).decrypt(token.encode()).decode()
