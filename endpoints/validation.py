"""Rules for endpoint settings, shared by the web forms, the API and the admin."""

import posixpath
import re
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from config.hosts import base_url_key, url_host_key
from config.schema import documents
from deliveries.ssrf import check_url

MAX_RETRIES = 20
MAX_RETRY_DELAY = 7 * 24 * 3600
TIMEOUT_RANGE = (1, 30)


def validate_destination_url(value: str | None) -> None:
    if not value:
        return
    reason = check_url(value)
    if reason:
        raise ValidationError(f"Destination refused: {reason}.")
    if is_own_ingest_url(value):
        raise ValidationError("Destination refused: it is this installation's own ingest URL (a forwarding loop).")


def is_own_ingest_url(url: str) -> bool:
    """Whether `url` points at /in/ of this very installation.

    Only the obvious spellings (our base URLs, any dot segments or escapes in
    the path); another name for the same host is stopped by the hop count.
    """
    ours = {base_url_key(settings.INGEST_BASE_URL), base_url_key(settings.PUBLIC_BASE_URL)}
    if url_host_key(url) not in ours:
        return False
    path = posixpath.normpath("/" + unquote(urlsplit(url).path).lstrip("/"))
    return path == "/in" or path.startswith("/in/")


def validate_retry_schedule(value: object) -> None:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RETRIES:
        raise ValidationError(f"Retry schedule must be a list of 1 to {MAX_RETRIES} delays in seconds.")
    for delay in value:
        if isinstance(delay, bool) or not isinstance(delay, int) or not 1 <= delay <= MAX_RETRY_DELAY:
            raise ValidationError(
                f"Each retry delay must be a whole number of seconds from 1 to {MAX_RETRY_DELAY} (7 days); got {delay!r}."
            )


@documents(minimum=TIMEOUT_RANGE[0], maximum=TIMEOUT_RANGE[1])
def validate_timeout(value: int) -> None:
    low, high = TIMEOUT_RANGE
    if not low <= value <= high:
        raise ValidationError(f"Timeout must be between {low} and {high} seconds.")


@documents(minimum=200, maximum=599)
def validate_response_status(value: int | None) -> None:
    if value is not None and not 200 <= value <= 599:
        raise ValidationError("Response status must be an HTTP status from 200 to 599.")


# Custom answers may be served from the dashboard's own origin: only types a
# browser never renders as a page (and /in/ adds nosniff and a sandbox CSP).
RESPONSE_CONTENT_TYPES = ("application/json", "text/plain", "application/xml", "text/xml")
DEFAULT_RESPONSE_CONTENT_TYPE = "text/plain; charset=utf-8"
_RESPONSE_CONTENT_TYPE = re.compile(
    r"(?:%s)(?:\s*;\s*charset=(?:[A-Za-z0-9._-]{1,40}|\"[A-Za-z0-9._-]{1,40}\"))?"
    % "|".join(re.escape(kind) for kind in RESPONSE_CONTENT_TYPES),
    re.IGNORECASE,
)


def _any_case(text: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in text)


# The same rule as a JSON Schema pattern (no flags there, hence the classes).
_RESPONSE_CONTENT_TYPE_PATTERN = (
    "^(?:(?:%s)(?:\\s*;\\s*%s=(?:[A-Za-z0-9._-]{1,40}|\"[A-Za-z0-9._-]{1,40}\"))?)?$"
    % ("|".join(_any_case(kind) for kind in RESPONSE_CONTENT_TYPES), _any_case("charset"))
)


@documents(pattern=_RESPONSE_CONTENT_TYPE_PATTERN)
def validate_response_content_type(value: str) -> None:
    if value and _RESPONSE_CONTENT_TYPE.fullmatch(value) is None:
        raise ValidationError(
            f"Content type must be one of {', '.join(RESPONSE_CONTENT_TYPES)}, optionally with "
            f"\"; charset=…\" (e.g. application/json; charset=utf-8); got {value[:100]!r}."
        )


def allowed_response_content_type(value: str) -> str:
    """The content type to answer with: a stored value only if it is still allowed."""
    if value and _RESPONSE_CONTENT_TYPE.fullmatch(value) is not None:
        return value
    return DEFAULT_RESPONSE_CONTENT_TYPE


@documents(minimum=1, maximum=100_000)
def validate_rate_limit(value: int | None) -> None:
    if value is not None and not 1 <= value <= 100_000:
        raise ValidationError("Rate limit must be between 1 and 100000 requests per second, or empty for none.")


MONITORING_LIMITS = {
    # key: (allows null, lowest, highest)
    "expected_every_seconds": (True, 1, 366 * 86400),
    "grace_seconds": (False, 0, 7 * 86400),
    "max_body_bytes": (True, 1, 1 << 40),
    "latency_threshold_ms": (False, 1, 3_600_000),
    "auto_pause_after_seconds": (True, 60, 366 * 86400),
}
MAX_REQUIRED_FIELDS = 50


def validate_monitoring(value: object) -> None:
    """A partial or whole `monitoring` object (README "Monitoring")."""
    if not isinstance(value, dict):
        raise ValidationError("Monitoring settings must be a JSON object.")
    unknown = set(value) - set(MONITORING_LIMITS) - {"required_fields"}
    if unknown:
        raise ValidationError(f"Unknown monitoring settings: {', '.join(sorted(unknown))}.")
    for key, (nullable, low, high) in MONITORING_LIMITS.items():
        if key not in value:
            continue
        item = value[key]
        if item is None and nullable:
            continue
        if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
            empty = " or null" if nullable else ""
            raise ValidationError(f"{key} must be a whole number from {low} to {high}{empty}.")
    fields = value.get("required_fields", [])
    if not isinstance(fields, list) or len(fields) > MAX_REQUIRED_FIELDS:
        raise ValidationError(f"required_fields must be a list of at most {MAX_REQUIRED_FIELDS} JSON pointers.")
    for pointer in fields:
        if not isinstance(pointer, str) or not pointer.startswith("/") or len(pointer) > 500:
            raise ValidationError(f"Each required field must be a JSON pointer such as /data/id; got {pointer!r}.")
