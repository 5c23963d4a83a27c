"""`make run` brings up web, worker and beat on SQLite, and Ctrl-C stops all of them."""

import os
import signal
import subprocess
import time

import psutil
import pytest
import requests

from tests.support.processes import ROOT, free_port, wait_until


@pytest.fixture
def run_env(tmp_path):
    port = free_port()
    env = {
        key: value for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "TEST_DATABASE_NAME", "DEBUG", "SECRET_KEY"}
    }
    env.update(PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}", TMPDIR=str(tmp_path))
    return port, env


def test_make_run_serves_on_sqlite_and_ctrl_c_stops_every_process(run_env):
    port, env = run_env
    make = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/accounts/login/"), timeout=60, interval=0.3,
                   message="make run to serve the login page")
        family = psutil.Process(make.pid).children(recursive=True)
        commands = " ".join(" ".join(p.cmdline()) for p in family)
        assert "uvicorn" in commands and "worker" in commands and "beat" in commands
        # The ingest path answers too (404: no such endpoint on a fresh database).
        assert requests.post(f"http://127.0.0.1:{port}/in/nothing", data=b"{}", timeout=10).status_code == 404
        # Static files too, with no collectstatic step (WhiteNoise reads the apps' folders).
        stylesheet = requests.get(f"http://127.0.0.1:{port}/static/hookline/app.css", timeout=10)
        assert stylesheet.status_code == 200 and stylesheet.headers["Content-Type"].startswith("text/css")
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        make.wait(30)
        wait_until(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family),
                   timeout=20, message="every child to exit")
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        output = make.stdout.read().decode(errors="replace")
    assert "Traceback" not in output, output


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False
