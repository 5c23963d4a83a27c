"""Checking a provider's signature on an inbound webhook.

One registry dict of schemes, each a plain function of the request's
headers, body, the endpoint's secret and options, and the clock. They run on
ingest's hot path for every request of a verifying endpoint, so they are CPU
only: one HMAC or two, no I/O. Secrets are compared in constant time.
"""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from config import crypto

# Stripe and Slack both document a five-minute tolerance; Standard Webhooks
# libraries use the same.
TOLERANCE_SECONDS = 300

VALID = "valid"
INVALID = "invalid"
MISSING = "missing"
UNCHECKED = "unchecked"

HMAC_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
HMAC_ENCODINGS = ("hex", "base64")

Headers = dict[str, str]
Verdict = tuple[str, str]
Scheme = Callable[[Headers, bytes, str, dict[str, Any], float], Verdict]


def _mac(secret: bytes, message: bytes, algorithm=hashlib.sha256) -> bytes:
    return hmac.new(secret, message, algorithm).digest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def _stale(timestamp: str, now: float) -> str:
    """Why a timestamp is out of tolerance ("" when it is fine)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return f"timestamp {timestamp!r} is not a number"
    age = int(now) - sent
    if abs(age) > TOLERANCE_SECONDS:
        return f"timestamp is {age} s away from now (tolerance {TOLERANCE_SECONDS} s)"
    return ""


def stripe(headers: Headers, body: bytes, secret: str, options: dict[str, Any], now: float) -> Verdict:
    header = headers.get("stripe-signature")
    if not header:
        return MISSING, "no Stripe-Signature header"
    timestamp, signatures = "", []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if not timestamp or not signatures:
        return INVALID, "Stripe-Signature has no t= timestamp or no v1= signature"
    expected = _mac(secret.encode(), timestamp.encode() + b"." + body).hex()
    if not any(_same(expected, given) for given in signatures):
        return INVALID, "no v1 signature matches the body"
    if stale := _stale(timestamp, now):
        return INVALID, stale
    return VALID, "v1 signature matches"


def github(headers: Headers, body: bytes, secret: str, options: dict[str, Any], now: float) -> Verdict:
    header = headers.get("x-hub-signature-256")
    if not header:
        return MISSING, "no X-Hub-Signature-256 header"
    expected = "sha256=" + _mac(secret.encode(), body).hex()
    if not _same(expected, header.strip()):
        return INVALID, "X-Hub-Signature-256 does not match the body"
    return VALID, "X-Hub-Signature-256 matches"


def shopify(headers: Headers, body: bytes, secret: str, options: dict[str, Any], now: float) -> Verdict:
    header = headers.get("x-shopify-hmac-sha256")
    if not header:
        return MISSING, "no X-Shopify-Hmac-Sha256 header"
    expected = base64.b64encode(_mac(secret.encode(), body)).decode()
    if not _same(expected, header.strip()):
        return INVALID, "X-Shopify-Hmac-Sha256 does not match the body"
    return VALID, "X-Shopify-Hmac-Sha256 matches"


def slack(headers: Headers, body: bytes, secret: str, options: dict[str, Any], now: float) -> Verdict:
    header = headers.get("x-slack-signature")
    timestamp = headers.get("x-slack-request-timestamp")
    if not header or not timestamp:
        return MISSING, "no X-Slack-Signature or X-Slack-Request-Timestamp header"
    expected = "v0=" + _mac(secret.encode(), b"v0:" + timestamp.encode() + b":" + body).hex()
    if not _same(expected, header.strip()):
        return INVALID, "X-Slack-Signature does not match the body"
    if stale := _stale(timestamp, now):
        return INVALID, stale
    return VALID, "v0 signature matches"


def standard_key(secret: str) -> bytes | None:
    """The HMAC key of a Standard Webhooks secret (`whsec_` + base64)."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        return None


def standard(headers: Headers, body: bytes, secret: str, options: dict[str, Any], now: float) -> Verdict:
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    header = headers.get("webhook-signature")
    if not msg_id or not timestamp or not header:
        return MISSING, "no webhook-id, webhook-timestamp or webhook-signature header"
    key = standard_key(secret)
    if key is None:
        return INVALID, "the verification secret is not a whsec_ base64 secret"
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(_mac(key, signed)).decode()
    # Space-separated "v1,<sig>" entries: any one matching is enough (rotation).
    given = [part.partition(",")[2] for part in header.split() if part.startswith("v1,")]
    if not any(_same(expected, signature) for signature in given):
        return INVALID, "no v1 signature matches the body"
    if stale := _stale(timestamp, now):
        return INVALID, stale
    return VALID, "v1 signature matches"


def generic_hmac(headers: Headers, body: bytes, secret: str, options: dict[str, Any], now: float) -> Verdict:
    name = options["header"].lower()
    header = headers.get(name)
    if not header:
        return MISSING, f"no {options['header']} header"
    digest = _mac(secret.encode(), body, HMAC_ALGORITHMS[options["algorithm"]])
    encoded = digest.hex() if options["encoding"] == "hex" else base64.b64encode(digest).decode()
    expected = options.get("prefix", "") + encoded
    if not _same(expected, header.strip()):
        return INVALID, f"{options['header']} does not match the body"
    return VALID, f"{options['header']} matches"


SCHEMES: dict[str, Scheme] = {
    "stripe": stripe,
    "github": github,
    "shopify": shopify,
    "slack": slack,
    "standard": standard,
    "hmac": generic_hmac,
}


@lru_cache(maxsize=4096)
def _decrypted(token: str) -> str:
    # Fernet costs tens of microseconds; ingest checks the same few secrets
    # thousands of times a second. Keyed by ciphertext, so a new secret is a
    # new entry and the old one ages out.
    return crypto.decrypt(token)


def first_values(headers: list[list[str]]) -> Headers:
    """Header name -> its first value (names arrive lowercased from ASGI)."""
    found: Headers = {}
    for name, value in headers:
        found.setdefault(name.lower(), value)
    return found


def secret_of(endpoint) -> str:
    token = endpoint.verification_secret_encrypted
    return _decrypted(token) if token else ""


def verify(endpoint, headers: Headers, body: bytes, now: float) -> dict[str, Any] | None:
    """The signature report stored on the event, or None when the endpoint
    does not verify (the API shows that as "unchecked")."""
    scheme = endpoint.verification_scheme
    if not scheme or endpoint.verification_mode == "off" or not endpoint.verification_secret_encrypted:
        return None
    options = endpoint.verification_options or {}
    if isinstance(options, str):  # jsonb as text from a connection without Django's loaders
        options = json.loads(options)
    verdict, detail = SCHEMES[scheme](headers, body, secret_of(endpoint), options, now)
    return {"scheme": scheme, "verdict": verdict, "detail": detail}
