"""Provider URL checks that ingest answers itself when an endpoint enables them.

Slack, Microsoft Graph, Zoom, Dropbox and X/Twitter each prove that a URL is
willing to receive their webhooks with a small challenge. The request is
stored like any other (so it can be inspected) but never forwarded: the
destination behind Hookline did not ask to be bothered with it.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from events.answers import Answer, json_answer, text_answer


@dataclass(frozen=True)
class Handshake:
    provider: str
    answer: Answer


def _hmac_sha256(secret: str, message: str) -> bytes:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


def _needs_secret(provider: str) -> Handshake:
    return Handshake(
        provider, json_answer(400, {"detail": f"Answering {provider}'s URL check needs the endpoint's verification secret."})
    )


def _from_query(method: str, query: str, secret: str) -> Handshake | None:
    if not query:
        return None
    params = parse_qs(query, keep_blank_values=True)
    if "validationToken" in params:
        # Microsoft Graph: echo the (URL-decoded) token as plain text within 10 s.
        return Handshake("graph", text_answer(params["validationToken"][0]))
    if method == "GET" and "crc_token" in params:
        if not secret:
            return _needs_secret("twitter")
        token = base64.b64encode(_hmac_sha256(secret, params["crc_token"][0])).decode()
        return Handshake("twitter", json_answer(200, {"response_token": "sha256=" + token}))
    if method == "GET" and "challenge" in params:
        return Handshake("dropbox", text_answer(params["challenge"][0]))
    return None


def _from_body(document: Any, secret: str) -> Handshake | None:
    if not isinstance(document, dict):
        return None
    if document.get("type") == "url_verification" and isinstance(document.get("challenge"), str):
        return Handshake("slack", json_answer(200, {"challenge": document["challenge"]}))
    if document.get("event") == "endpoint.url_validation":
        payload = document.get("payload")
        plain = payload.get("plainToken") if isinstance(payload, dict) else None
        if not isinstance(plain, str):
            return None
        if not secret:
            return _needs_secret("zoom")
        encrypted = _hmac_sha256(secret, plain).hex()
        return Handshake("zoom", json_answer(200, {"plainToken": plain, "encryptedToken": encrypted}))
    return None


def detect(method: str, query: str, document: Any, secret: str) -> Handshake | None:
    """The handshake this request is, with its answer, or None for a webhook.

    `document` is the parsed JSON body (None when it is not JSON); `secret`
    the endpoint's verification secret ("" when none).
    """
    return _from_query(method, query, secret) or _from_body(document, secret)
