"""The web servers under test, started on a free loopback port."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.config import REPO, BenchConfig
from bench.procs import Processes, free_port, wait_until_answers


def uvicorn_command(cfg: BenchConfig, port: int) -> list[str]:
    """The web part of `make run`, taken from config/run.py itself."""
    from config.run import commands  # the same argv `make run` uses

    cmd = commands(str(port), cfg.web_workers, "1")[0]
    cmd[cmd.index("--host") + 1] = cfg.host
    cmd[0] = cfg.python
    return cmd


def uvicorn_single_command(cfg: BenchConfig, port: int) -> list[str]:
    """The same, without --workers: one process that is itself the server
    (no supervisor, no reloader), so its /proc figures are the server's."""
    cmd = uvicorn_command(cfg, port)
    at = cmd.index("--workers")
    del cmd[at:at + 2]
    return cmd


def daphne_command(cfg: BenchConfig, port: int) -> list[str]:
    return [str(Path(cfg.python).with_name("daphne")), "-b", cfg.host, "-p", str(port), "config.asgi:application"]


COMMANDS = {"uvicorn": uvicorn_command, "uvicorn-1": uvicorn_single_command, "daphne": daphne_command}


@dataclass
class Server:
    name: str
    host: str
    port: int
    child: subprocess.Popen[bytes]
    log: Path
    started_in_s: float

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"


def start(name: str, cfg: BenchConfig, procs: Processes, workdir: Path) -> Server:
    port = free_port(cfg.host)
    cmd = COMMANDS[name](cfg, port)
    log = workdir / f"{name}.log"
    child = procs.spawn(cmd, cfg.django_env(), log, cwd=REPO)
    # `/in/` with no token is answered by the ingest callable without the DB.
    took = wait_until_answers(child, cfg.host, port, "/in/", cfg.server_start_timeout_s, log)
    return Server(name, cfg.host, port, child, log, took)
