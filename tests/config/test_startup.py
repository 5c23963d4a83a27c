import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env
from tests.support.processes import ROOT, free_port


def test_make_run_stops_with_one_clear_line_when_redis_does_not_answer():
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [sys.executable, "-m", "config.run"], cwd=ROOT, capture_output=True, text=True, timeout=30,
        env={**os.environ, "REDIS_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert result.returncode != 0
    assert f"REDIS_URL={url}" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_setting_names_its_variable(monkeypatch):
    monkeypatch.setenv("MAX_BODY_BYTES", "lots")
    with pytest.raises(ImproperlyConfigured, match="MAX_BODY_BYTES"):
        env.env_int("MAX_BODY_BYTES", 10)
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env.env_bool("DEBUG", False)


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, capture_output=True, text=True,
        timeout=30, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "", "DEBUG": "0"},
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
