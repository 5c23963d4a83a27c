"""Child processes of a run: each one in its own session (process group), all
of them ended by `Processes.stop_all` on success, error, Ctrl-C or SIGTERM.

Only the process groups started here are ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType


class BenchError(RuntimeError):
    """A step of the run failed; the message says which and why."""


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


class Processes:
    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []

    def spawn(self, cmd: Sequence[str], env: dict[str, str], log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            child = subprocess.Popen(
                list(cmd), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._children.append(child)
        return child

    def run(
        self, cmd: Sequence[str], timeout: float, env: dict[str, str] | None = None, cwd: Path | None = None,
        check: bool = True,
    ) -> Finished:
        """Run to completion within `timeout` seconds, output captured."""
        child = subprocess.Popen(
            list(cmd), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
        )
        self._children.append(child)
        try:
            out, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(child)
            raise BenchError(f"{cmd[0]} did not finish within {timeout:.0f}s: {' '.join(cmd)}") from None
        finally:
            if child.poll() is not None and child in self._children:
                self._children.remove(child)
        done = Finished(child.returncode, out.decode(errors="replace"), err.decode(errors="replace"))
        if check and done.returncode != 0:
            raise BenchError(
                f"{' '.join(cmd)} exited with {done.returncode}:\n{_tail(done.stdout)}\n{_tail(done.stderr)}"
            )
        return done

    def stop(self, child: subprocess.Popen[bytes], grace: float = 5.0) -> None:
        """SIGTERM to the child's process group, SIGKILL after `grace` seconds."""
        if child.poll() is None:
            _signal_group(child.pid, signal.SIGTERM)
            try:
                child.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(child.pid, signal.SIGKILL)
                child.wait(5)
        # Workers of a server (uvicorn --workers) are in the same group and
        # may outlive their parent for a moment.
        _signal_group(child.pid, signal.SIGKILL)
        if child in self._children:
            self._children.remove(child)

    def stop_all(self) -> None:
        for child in list(reversed(self._children)):
            try:
                self.stop(child)
            except Exception as exc:  # keep stopping the others
                print(f"bench: could not stop pid {child.pid}: {exc}", flush=True)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(pgid, sig)


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        return _tail(path.read_text(errors="replace"), lines)
    except OSError:
        return ""


def raise_on_sigterm() -> None:
    """SIGTERM and SIGHUP behave like Ctrl-C: unwind and run the cleanup.

    Ctrl-C itself gets Python's default handler back even when the parent
    started us with SIGINT ignored (a background job of a script).
    """

    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def http_status(host: str, port: int, path: str, timeout: float = 1.0) -> int | None:
    """Status of one GET, or None when nothing answers."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            head = sock.recv(64)
    except OSError:
        return None
    if not head.startswith(b"HTTP/1."):
        return None
    try:
        return int(head[9:12])
    except ValueError:
        return None


def wait_until_answers(child: subprocess.Popen[bytes], host: str, port: int, path: str, timeout: float, log: Path) -> float:
    """Seconds until the server answered `path` twice in a row."""
    started = time.monotonic()
    deadline = started + timeout
    streak = 0
    for _ in range(int(timeout / 0.1) + 1):
        if child.poll() is not None:
            raise BenchError(f"server exited with {child.returncode} before answering:\n{log_tail(log)}")
        if http_status(host, port, path) is not None:
            streak += 1
            if streak >= 2:
                return time.monotonic() - started
        else:
            streak = 0
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    raise BenchError(f"server did not answer http://{host}:{port}{path} within {timeout:.0f}s:\n{log_tail(log)}")
