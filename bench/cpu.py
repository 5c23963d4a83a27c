"""CPU accounting from /proc: CPU time per request is far less noisy than
req/s on a shared 2-core box, and it says who spends the time (the server,
Postgres or the load generator)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: str) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after "(comm)": state ppid pgrp session ... utime(14) stime(15)
    return raw[raw.rfind(")") + 2:].split()


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / _TICK


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds of the live processes of one process group."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(entry)
            if fields is not None and int(fields[2]) == pgid:
                total += _cpu(fields)
    return total


def pids_cpu_seconds(pids: list[int]) -> dict[int, float]:
    out: dict[int, float] = {}
    for pid in pids:
        fields = _stat_fields(str(pid))
        if fields is not None:
            out[pid] = _cpu(fields)
    return out


def _busy_idle() -> tuple[int, int]:
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, idle


def machine_busy_share(seconds: float = 1.0) -> float:
    """Share of all cores busy over `seconds` (before our load starts)."""
    busy0, idle0 = _busy_idle()
    time.sleep(seconds)
    busy1, idle1 = _busy_idle()
    total = (busy1 - busy0) + (idle1 - idle0)
    return (busy1 - busy0) / total if total else 0.0


@dataclass
class CpuWindow:
    """CPU used by a server's process group and by Postgres backends of the
    bench database between `start()` and `stop()`."""

    server_pgid: int
    backend_pids: list[int]
    server_s: float = 0.0
    postgres_s: float = 0.0
    machine_busy_s: float = 0.0
    wall_s: float = 0.0
    _server0: float = 0.0
    _backends0: dict[int, float] | None = None
    _machine0: int = 0
    _t0: float = 0.0

    def start(self) -> None:
        self._server0 = group_cpu_seconds(self.server_pgid)
        self._backends0 = pids_cpu_seconds(self.backend_pids)
        self._machine0 = _busy_idle()[0]
        self._t0 = time.monotonic()

    def stop(self, backend_pids: list[int]) -> None:
        self.wall_s = time.monotonic() - self._t0
        self.machine_busy_s = (_busy_idle()[0] - self._machine0) / _TICK
        self.server_s = group_cpu_seconds(self.server_pgid) - self._server0
        before = self._backends0 or {}
        after = pids_cpu_seconds(backend_pids)
        self.postgres_s = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
