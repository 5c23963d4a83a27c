"""Who is on the other end of a `/v1/ws` socket.

A `?token=` (JWT access token or `hl_…` API key) works from any origin: a
script has no ambient credentials an attacker could borrow. The session
cookie is ambient, so it counts only when the `Origin` passes Django's CSRF
origin rule; otherwise any page the user visits, even one on another port
of the same host, could open the socket as them (cross-site WebSocket
hijacking).
"""

from dataclasses import dataclass
from importlib import import_module
from urllib.parse import parse_qs, urlsplit

from channels.auth import get_user
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.exceptions import ValidationError
from django.http.request import split_domain_port, validate_host
from django.utils.crypto import constant_time_compare
from django.utils.http import is_same_domain
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from endpoints.models import ApiKey
from realtime.internal import session_group

API_KEY_PREFIX = "hl_"


@dataclass(frozen=True)
class Principal:
    user_id: int
    # Public id of the API key used, so its revocation can close the socket.
    api_key_id: str | None = None
    # Epoch seconds after which a JWT no longer holds; the socket closes then.
    expires_at: float | None = None
    # Group of the session that opened the socket; its logout closes the socket.
    session_group: str | None = None


async def authenticate(scope: dict) -> Principal | None:
    token = query_token(scope)
    if token:
        if token.startswith(API_KEY_PREFIX):
            return await _from_api_key(token)
        return await _from_jwt(token)
    if not origin_allowed(scope):
        return None
    user = await get_user(scope)
    if user.is_authenticated and user.is_active:
        return Principal(user_id=user.pk, session_group=session_group(scope["session"].session_key))
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


def origin_allowed(scope: dict) -> bool:
    """Django's CSRF origin check (CsrfViewMiddleware._origin_verified).

    The whole Origin (scheme, host, port) must be the socket's own origin,
    built from a Host that ALLOWED_HOSTS accepts, or a CSRF_TRUSTED_ORIGINS
    entry. Matching the Origin's host name against ALLOWED_HOSTS instead
    would let any port of the host in, and everything in with `*`.
    """
    raw = header(scope, b"origin")
    if not raw:
        return False
    origin = raw.decode("latin-1")
    own = own_origin(scope)
    if own is not None and origin == own:
        return True
    return origin_trusted(origin)


def own_origin(scope: dict) -> str | None:
    raw = header(scope, b"host")
    if not raw:
        return None
    host = raw.decode("latin-1")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, allowed_hosts()):
        return None
    return f"{'https' if is_secure(scope) else 'http'}://{host}"


def is_secure(scope: dict) -> bool:
    # As HttpRequest.is_secure: a configured proxy header decides when sent.
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        value = header(scope, name)
        if value is not None:
            return value.decode("latin-1").split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def origin_trusted(origin: str) -> bool:
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in trusted:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    # Entries like "https://*.example.com" allow that domain's subdomains.
    for entry in trusted:
        if "*" in entry:
            allowed = urlsplit(entry)
            if allowed.scheme == parsed.scheme and is_same_domain(parsed.netloc, allowed.netloc.removeprefix("*")):
                return True
    return False


@database_sync_to_async
def session_active(scope: dict, user_id: int) -> bool:
    """Whether the socket's session still signs this user in, read afresh.

    False once it logged out (the row is gone) or once the password changed
    elsewhere (its auth hash is stale), as Django would decide on its next
    request; the scope's own copy of the session is from the handshake.
    """
    session_key = scope["session"].session_key
    if not session_key:
        return False
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
    if data.get(SESSION_KEY) != str(user_id):
        return False
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    stored = data.get(HASH_SESSION_KEY)
    return user is not None and bool(stored) and constant_time_compare(stored, user.get_session_auth_hash())


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
