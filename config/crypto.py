"""Symmetric encryption for secrets we must read back (signing secrets).

The key is derived from SECRET_KEY, so rotating SECRET_KEY makes stored
signing secrets unreadable; `make run` keeps one per checkout for that reason.
"""

import base64
import hashlib

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"hookline-secrets:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
