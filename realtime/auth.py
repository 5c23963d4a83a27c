"""Who is on the other end of a `/v1/ws` socket.

A `?token=` (JWT access token or `hl_…` API key) works from any origin: a
script has no ambient credentials an attacker could borrow. The session
cookie is ambient, so it counts only when the `Origin` is one of ours;
otherwise any page the user visits could open the socket as them
(cross-site WebSocket hijacking).
"""

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from channels.auth import get_user
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http.request import validate_host
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from endpoints.models import ApiKey

API_KEY_PREFIX = "hl_"


@dataclass(frozen=True)
class Principal:
    user_id: int
    # Public id of the API key used, so its revocation can close the socket.
    api_key_id: str | None = None
    # Epoch seconds after which a JWT no longer holds; the socket closes then.
    expires_at: float | None = None


async def authenticate(scope: dict) -> Principal | None:
    token = query_token(scope)
    if token:
        if token.startswith(API_KEY_PREFIX):
            return await _from_api_key(token)
        return await _from_jwt(token)
    if not origin_allowed(header(scope, b"origin")):
        return None
    user = await get_user(scope)
    if user.is_authenticated and user.is_active:
        return Principal(user_id=user.pk)
    return None


def query_token(scope: dict) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("token") or [""]
    return values[0].strip()


def header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value
    return None


def allowed_hosts() -> list[str]:
    # Mirrors Django's own fallback for DEBUG with no ALLOWED_HOSTS.
    if not settings.ALLOWED_HOSTS and settings.DEBUG:
        return [".localhost", "127.0.0.1", "[::1]"]
    return list(settings.ALLOWED_HOSTS)


def origin_allowed(origin: bytes | None) -> bool:
    if not origin:
        return False
    try:
        host = urlsplit(origin.decode("latin-1")).hostname
    except ValueError:
        return False
    if not host:  # includes the literal "null" origin of sandboxed pages
        return False
    if ":" in host:
        host = f"[{host}]"
    return validate_host(host, allowed_hosts())


@database_sync_to_async
def _from_jwt(raw: str) -> Principal | None:
    backend = JWTAuthentication()
    try:
        token = backend.get_validated_token(raw)
        user = backend.get_user(token)
    except (InvalidToken, AuthenticationFailed, ValueError, ValidationError):
        return None
    leeway = token.get_token_backend().get_leeway().total_seconds()
    return Principal(user_id=user.pk, expires_at=float(token["exp"]) + leeway)


@database_sync_to_async
def _from_api_key(raw: str) -> Principal | None:
    key = ApiKey.authenticate(raw)
    if key is None:
        return None
    return Principal(user_id=key.owner_id, api_key_id=key.public_id)


@database_sync_to_async
def api_key_active(public_id: str) -> bool:
    return ApiKey.objects.active().filter(public_id=public_id, owner__is_active=True).exists()
