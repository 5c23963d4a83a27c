"""`hookline` as a user runs it: the installed console script in its own process."""

import os
import subprocess
import sys
from pathlib import Path

from tests.support.processes import ROOT, wait_until

HOOKLINE = str(Path(sys.executable).with_name("hookline"))


def cli_env() -> dict[str, str]:
    # Nothing of the server's configuration: the CLI must not need it.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO", "HOOKLINE_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Cli:
    """A running `hookline listen`, its stdout and stderr kept in files."""

    def __init__(self, args: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.out_path = log_dir / "hookline.out"
        self.err_path = log_dir / "hookline.err"
        self.proc = subprocess.Popen(
            [HOOKLINE, *args], cwd="/", env=env or cli_env(),
            stdout=open(self.out_path, "wb"), stderr=open(self.err_path, "wb"), start_new_session=True,
        )

    def out(self) -> str:
        return self.out_path.read_text()

    def err(self) -> str:
        return self.err_path.read_text()

    def wait_ready(self) -> None:
        wait_until(lambda: "Ready:" in self.out() or self.proc.poll() is not None, timeout=30, message="hookline ready")
        assert self.proc.poll() is None, self.err()

    def lines_with(self, text: str) -> list[str]:
        return [line for line in self.out().splitlines() if text in line]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def run_once(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([HOOKLINE, *args], cwd=ROOT, env=env or cli_env(), capture_output=True, text=True, timeout=60)
