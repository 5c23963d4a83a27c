"""Channel-layer messages between server parts that never reach a client.

Client-visible messages come from realtime.envelope only. These ride the
same groups so a consumer learns about changes it must act on: a new or
deleted endpoint (for `"*"` subscriptions), a revoked API key, a session
that logged out, a password change (which ends every session's sockets).
The consumer handles each type itself and forwards none of them.
"""

import hashlib
from typing import Any

ENDPOINT_CREATED = "endpoint.created"
ENDPOINT_DELETED = "endpoint.deleted"
API_KEY_REVOKED = "apikey.revoked"
SESSION_ENDED = "session.ended"
PASSWORD_CHANGED = "password.changed"
TEST_SESSION_ENDED = "testsession.ended"


def api_key_group(public_id: str) -> str:
    return f"apikey.{public_id}"


def session_group(session_key: str) -> str:
    # Hashed: group names are visible in Redis, a session key is a credential.
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def user_sessions_group(user_id: int) -> str:
    return f"sessions.user.{user_id}"


def endpoint_created(endpoint_id: str) -> dict[str, Any]:
    return {"type": ENDPOINT_CREATED, "endpoint": endpoint_id}


def endpoint_deleted(endpoint_id: str) -> dict[str, Any]:
    return {"type": ENDPOINT_DELETED, "endpoint": endpoint_id}


def api_key_revoked(key_id: str) -> dict[str, Any]:
    return {"type": API_KEY_REVOKED, "key": key_id}


def test_session_ended(session_id: str) -> dict[str, Any]:
    """A test session was claimed or expired: its public feed closes."""
    return {"type": TEST_SESSION_ENDED, "session": session_id}


def session_ended() -> dict[str, Any]:
    return {"type": SESSION_ENDED}


def password_changed() -> dict[str, Any]:
    return {"type": PASSWORD_CHANGED}
