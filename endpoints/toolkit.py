"""The debugging toolkit's endpoint settings: `verification`, `dedup`,
`handshakes` and `rotation_overlap`, checked the same way for the API and
the web form. Each `clean_*` turns the public shape into model attributes
or raises a ValidationError that names what is wrong."""

import re
from typing import Any

from django.core.exceptions import ValidationError

from endpoints.models import DedupAction, Endpoint, VerificationMode
from events.verification import HMAC_ALGORITHMS, HMAC_ENCODINGS, SCHEMES, standard_key

MAX_WINDOW_SECONDS = 7 * 24 * 3600
MAX_SECRET_CHARS = 500
HMAC_OPTION_KEYS = {"header", "algorithm", "encoding", "prefix"}
VERIFICATION_KEYS = {"scheme", "secret", "mode", *HMAC_OPTION_KEYS}
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")


def verification_of(endpoint: Endpoint) -> dict[str, Any]:
    """The public shape, without the secret (write-only)."""
    shown: dict[str, Any] = {
        "scheme": endpoint.verification_scheme or None,
        "mode": endpoint.verification_mode,
        "secret_set": bool(endpoint.verification_secret_encrypted),
    }
    if endpoint.verification_scheme == "hmac":
        shown.update(endpoint.verification_options)
    return shown


def _hmac_options(value: dict[str, Any]) -> dict[str, str]:
    header = value.get("header")
    if not isinstance(header, str) or not _HEADER_NAME.fullmatch(header):
        raise ValidationError("The hmac scheme needs `header`, the name of the header that carries the signature.")
    algorithm = value.get("algorithm", "sha256")
    if not isinstance(algorithm, str) or algorithm not in HMAC_ALGORITHMS:  # a dict would not hash
        raise ValidationError(f"`algorithm` must be one of {', '.join(HMAC_ALGORITHMS)}.")
    encoding = value.get("encoding", "hex")
    if not isinstance(encoding, str) or encoding not in HMAC_ENCODINGS:
        raise ValidationError(f"`encoding` must be one of {', '.join(HMAC_ENCODINGS)}.")
    prefix = value.get("prefix", "")
    if not isinstance(prefix, str) or len(prefix) > 50 or not prefix.isprintable():
        raise ValidationError("`prefix` must be printable text of at most 50 characters, e.g. sha256=.")
    return {"header": header, "algorithm": algorithm, "encoding": encoding, "prefix": prefix}


def clean_verification(value: Any, endpoint: Endpoint | None) -> dict[str, Any]:
    """Model attributes for a `verification` object; a missing `secret` keeps the stored one."""
    if value is None:
        return {"verification_scheme": "", "verification_mode": VerificationMode.OFF,
                "verification_options": {}, "verification_secret": ""}
    if not isinstance(value, dict):
        raise ValidationError("`verification` must be an object: {scheme, secret, mode}.")
    unknown = set(value) - VERIFICATION_KEYS
    if unknown:
        raise ValidationError(f"Unknown verification field(s): {', '.join(sorted(unknown))}.")
    scheme = value.get("scheme")
    if scheme is not None and (not isinstance(scheme, str) or scheme not in SCHEMES):
        raise ValidationError(f"Unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)} or null.")
    mode = value.get("mode", VerificationMode.FLAG if scheme else VerificationMode.OFF)
    if mode not in VerificationMode.values:
        raise ValidationError(f"`mode` must be one of {', '.join(VerificationMode.values)}.")
    secret = value.get("secret")
    if secret is not None and (not isinstance(secret, str) or not 1 <= len(secret) <= MAX_SECRET_CHARS):
        raise ValidationError(f"`secret` must be text of 1 to {MAX_SECRET_CHARS} characters.")
    has_secret = secret is not None or bool(endpoint and endpoint.verification_secret_encrypted)
    if scheme and mode != VerificationMode.OFF and not has_secret:
        raise ValidationError(f"The {scheme} scheme needs the provider's `secret`.")
    if scheme == "standard" and secret is not None and standard_key(secret) is None:
        raise ValidationError("A Standard Webhooks secret is `whsec_` followed by base64.")
    # hmac options sent with another scheme are checked too (then dropped):
    # the schema types them whatever the scheme, so must the API.
    options = _hmac_options(value) if scheme == "hmac" or HMAC_OPTION_KEYS & value.keys() else {}
    cleaned: dict[str, Any] = {
        "verification_scheme": scheme or "",
        "verification_mode": mode,
        "verification_options": options if scheme == "hmac" else {},
    }
    if secret is not None:
        cleaned["verification_secret"] = secret
    return cleaned


def dedup_of(endpoint: Endpoint) -> dict[str, Any]:
    return {"window_seconds": endpoint.dedup_window_seconds, "action": endpoint.dedup_action}


def clean_window(seconds: Any, name: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_WINDOW_SECONDS:
        raise ValidationError(f"`{name}` must be whole seconds from 0 to {MAX_WINDOW_SECONDS} (7 days).")
    return seconds


def clean_dedup(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError('`dedup` must be an object: {"window_seconds": N, "action": "flag"|"drop"}.')
    unknown = set(value) - {"window_seconds", "action"}
    if unknown:
        raise ValidationError(f"Unknown dedup field(s): {', '.join(sorted(unknown))}.")
    action = value.get("action", DedupAction.FLAG)
    if action not in DedupAction.values:
        raise ValidationError(f"`action` must be one of {', '.join(DedupAction.values)}.")
    return {"dedup_window_seconds": clean_window(value.get("window_seconds", 0), "window_seconds"),
            "dedup_action": action}
