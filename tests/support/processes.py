"""Real server, worker and beat processes for end-to-end tests."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(database_name: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database_name}",
        DEBUG="0",
        ALLOW_PRIVATE_DESTINATIONS="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Process:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Process":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def stop(self, sig_kill: bool = False) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # A web server's worker processes outlive their parent by a moment;
        # wait for them too, or the test database is dropped under them.
        children = psutil.Process(self.proc.pid).children(recursive=True)
        if sig_kill:
            os.killpg(self.proc.pid, 9)
        else:
            os.killpg(self.proc.pid, 15)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(5)
        _, alive = psutil.wait_procs(children, timeout=10)
        for child in alive:
            child.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


# Two, as under `make run`: rate limits, WebSocket connection slots and
# fan-out are claims across server processes, so the tests run more than one.
WEB_PROCESSES = 2


def web(port: int, env: dict[str, str], log_dir: Path, web_processes: int = WEB_PROCESSES) -> Process:
    """The server exactly as `make run` starts it."""
    from config.run import commands

    argv = commands(str(port), str(web_processes), "1")[0]
    return Process(f"web-{port}", argv, env, log_dir)


def worker(env: dict[str, str], log_dir: Path, name: str = "worker") -> Process:
    """One worker process as `make run` starts it (its engine does the sending)."""
    from config.run import worker_command

    argv = worker_command(name)
    argv[argv.index("WARNING")] = "INFO"
    return Process(name, argv, env, log_dir)


def beat(env: dict[str, str], log_dir: Path) -> Process:
    argv = [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "INFO",
            "--schedule", str(log_dir / "beat-schedule")]
    return Process("beat", argv, env, log_dir)


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05, message: str = "condition"):
    """Bounded poll for real asynchronous work (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")
