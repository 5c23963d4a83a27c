"""Which host a request was addressed to, and whether it is the ingest host.

With `INGEST_BASE_URL` on an origin of its own, custom ingest answers are
served from a host that holds no session or CSRF cookie of the dashboard:
that host answers `/in/` and nothing else, and the dashboard's host answers
everything but `/in/`. The split is made on the `Host` header, before Django
(whose `ALLOWED_HOSTS` never sees ingest requests).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_PORTS = {"http": 80, "https": 443}


def check_base_url(name: str, value: str) -> str:
    """`value` without its trailing slash; refuses anything but scheme://host[:port]."""
    value = value.rstrip("/")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a URL: {exc}") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must look like https://host[:port] with no path, got {value!r}")
    return value


def _host_key(host: str, port: int | None, scheme: str) -> str:
    return f"{host.lower().rstrip('.')}:{port or DEFAULT_PORTS[scheme]}"


def base_url_key(base_url: str) -> str:
    parts = urlsplit(base_url)
    return _host_key(parts.hostname or "", parts.port, parts.scheme)


def separate_ingest_host() -> str | None:
    """The ingest host's key when it differs from the dashboard's, else None."""
    ingest = base_url_key(settings.INGEST_BASE_URL)
    return ingest if ingest != base_url_key(settings.PUBLIC_BASE_URL) else None


def request_host_key(scope: dict) -> str | None:
    """The `Host` a request was sent to, in the form `base_url_key` gives."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            try:
                parts = urlsplit("//" + value.decode("latin-1"))
                return _host_key(parts.hostname or "", parts.port, urlsplit(settings.INGEST_BASE_URL).scheme)
            except ValueError:
                return None
    return None


def url_host_key(url: str) -> str | None:
    """`base_url_key` of any http(s) URL, or None when it has no usable host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return _host_key(parts.hostname, port, parts.scheme)
