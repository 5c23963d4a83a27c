"""With DEBUG off the settings are production-grade, and `check --deploy` agrees."""

import os
import runpy
import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.support.processes import ROOT

SETTINGS_FILE = ROOT / "config" / "settings.py"
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "hooks.hookline.test",
    "PUBLIC_BASE_URL": "https://hooks.hookline.test",
}


def settings_with(monkeypatch, **env: str) -> dict:
    for name in ("SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_check_deploy_finds_nothing_with_production_values():
    env = {**os.environ, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("SECURE_PROXY_SSL_HEADER", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_with_debug_off_cookies_are_secure_and_pages_cannot_be_framed(monkeypatch):
    values = settings_with(monkeypatch, **PRODUCTION)
    assert values["SESSION_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"] and values["CSRF_COOKIE_SECURE"]
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert "csp.middleware.CSPMiddleware" in values["MIDDLEWARE"]


def test_hsts_and_the_https_redirect_follow_an_https_public_url(monkeypatch):
    https = settings_with(monkeypatch, **PRODUCTION)
    assert https["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert https["SECURE_SSL_REDIRECT"] is True
    plain = settings_with(monkeypatch, **{**PRODUCTION, "PUBLIC_BASE_URL": "http://10.0.0.5:8000"})
    assert plain.get("SECURE_HSTS_SECONDS", 0) == 0
    assert not plain.get("SECURE_SSL_REDIRECT", False)


def test_with_debug_on_cookies_work_over_plain_http(monkeypatch):
    values = settings_with(monkeypatch, DEBUG="1", PUBLIC_BASE_URL="https://hooks.hookline.test")
    assert not values["SESSION_COOKIE_SECURE"] and not values["CSRF_COOKIE_SECURE"]
    assert values.get("SECURE_HSTS_SECONDS", 0) == 0


def test_the_proxy_ssl_header_is_opt_in(monkeypatch):
    assert settings_with(monkeypatch, **PRODUCTION)["SECURE_PROXY_SSL_HEADER"] is None
    values = settings_with(monkeypatch, **PRODUCTION, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_a_malformed_proxy_ssl_header_names_its_variable(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SECURE_PROXY_SSL_HEADER"):
        settings_with(monkeypatch, **PRODUCTION, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
