"""Signing requests the way each provider documents it, for ingest tests.

Written from the providers' documentation, independently of
events/verification.py, so a mistake there cannot hide in both places.
"""

import base64
import hashlib
import hmac
import time
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook


def stripe_headers(secret: str, body: bytes, at: int | None = None) -> dict[str, str]:
    # Stripe's docs ("Verify signatures manually"): hex HMAC-SHA256 of "t.body".
    timestamp = int(time.time()) if at is None else at
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={signature},v0=ignored"}


def github_headers(secret: str, body: bytes) -> dict[str, str]:
    # X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the body.
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": "push"}


def shopify_headers(secret: str, body: bytes) -> dict[str, str]:
    # X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the body.
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"X-Shopify-Hmac-Sha256": digest, "X-Shopify-Topic": "orders/create"}


def slack_headers(secret: str, body: bytes, at: int | None = None) -> dict[str, str]:
    # "v0:" + timestamp + ":" + body, hex HMAC-SHA256, prefixed "v0=".
    timestamp = int(time.time()) if at is None else at
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(timestamp)}


def standard_headers(secret: str, body: bytes, msg_id: str = "msg_2a9", at: datetime | None = None) -> dict[str, str]:
    moment = at or datetime.now(tz=timezone.utc)
    signature = Webhook(secret).sign(msg_id, moment, body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(moment.timestamp())), "webhook-signature": signature}


def hmac_header(secret: str, body: bytes, algorithm: str, encoding: str, prefix: str) -> str:
    digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).digest()
    encoded = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    return prefix + encoded
