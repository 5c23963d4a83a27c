"""What the forwarding sections run: `make run`'s processes (web, N worker
processes, beat, taken from the measured checkout's config/run.py), a
destination process, endpoints pointing at it, load senders and the
accounting of what arrived."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import uvloop

from bench.config import REPO, BenchConfig
from bench.cpu import group_cpu_seconds, pids_cpu_seconds
from bench.prepare import backend_pids
from bench.poster import Poster
from bench.procs import BenchError, Processes, free_port, wait_until_answers

_COMMANDS = """
import json, sys
from config.run import commands
print(json.dumps(commands(sys.argv[1], sys.argv[2], sys.argv[3])))
"""

_ENDPOINTS = """
import json, os
from django.contrib.auth import get_user_model
from endpoints.models import Endpoint
owner = get_user_model().objects.get(username="bench")
specs = json.loads(os.environ["BENCH_ENDPOINT_SPECS"])
made = {}
for name, url, timeout, schedule in specs:
    endpoint = Endpoint.objects.create(owner=owner, name=name, destination_url=url, timeout_seconds=timeout,
                                       retry_schedule=schedule)
    made[name] = endpoint.ingest_token
print("BENCH_ENDPOINTS=" + json.dumps(made))
"""


_RESUME = """
import os
from django.db import transaction
from deliveries import tasks
from endpoints.models import Endpoint
endpoint = Endpoint.objects.get(ingest_token=os.environ["BENCH_TOKEN"])
with transaction.atomic():
    Endpoint.objects.filter(pk=endpoint.pk).update(paused=False)
    endpoint.paused = False
    tasks.release_held(endpoint)
"""


@dataclass
class Stack:
    cfg: BenchConfig
    procs: Processes
    workdir: Path
    workers: int
    port: int = 0
    dest_port: int = 0
    dest_log: Path = Path()
    web: subprocess.Popen | None = None
    worker_procs: list[subprocess.Popen] = field(default_factory=list)
    others: list[subprocess.Popen] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = self.cfg.django_env()
        env.update(PORT=str(self.port), ALLOW_PRIVATE_DESTINATIONS="1", WORKER_PROCESSES=str(self.workers))
        return env

    def vacuum(self) -> None:
        """This box runs PostgreSQL with autovacuum off (conf.d/90-ci.conf); a
        production server would have vacuumed the dead rows of the earlier
        sections, which the engine's claims would otherwise wade through."""
        with psycopg.connect(self.cfg.database_url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) events_event, deliveries_deliveryattempt")

    def start(self) -> None:
        self.vacuum()
        self.port, self.dest_port = free_port(self.cfg.host), free_port(self.cfg.host)
        self.dest_log = self.workdir / f"destination-{self.dest_port}.log"
        dest = self.procs.spawn(
            [self.cfg.python, "-m", "bench.destination", str(self.dest_port), str(self.dest_log)], self.env(),
            self.workdir / "destination.out", cwd=Path(__file__).resolve().parent.parent,
        )
        self.others.append(dest)
        done = self.procs.run(
            [self.cfg.python, "-c", _COMMANDS, str(self.port), self.cfg.web_workers, str(self.workers)],
            timeout=60, env=self.env(), cwd=REPO,
        )
        commands = json.loads(done.stdout.strip().splitlines()[-1])
        web, *workers, beat = commands
        web[web.index("--host") + 1] = self.cfg.host
        self.web = self.procs.spawn(web, self.env(), self.workdir / "fwd-web.log", cwd=REPO)
        for n, cmd in enumerate(workers):
            self.worker_procs.append(self.procs.spawn(cmd, self.env(), self.workdir / f"fwd-worker{n}.log", cwd=REPO))
        beat[beat.index("--schedule") + 1] = str(self.workdir / f"beat-{self.port}")
        self.others.append(self.procs.spawn(beat, self.env(), self.workdir / "fwd-beat.log", cwd=REPO))
        wait_until_answers(self.web, self.cfg.host, self.port, "/in/", self.cfg.server_start_timeout_s,
                           self.workdir / "fwd-web.log")
        deadline = time.monotonic() + 60
        # The banner lists the queues once the worker is set up (at any log level).
        while not all("[queues]" in _read(self.workdir / f"fwd-worker{n}.log") for n in range(len(workers))):
            if time.monotonic() > deadline:
                raise BenchError("the worker processes did not start within 60s")
            time.sleep(0.2)
        time.sleep(2)  # connecting to the broker follows the banner

    def stop(self) -> None:
        for child in [self.web, *self.worker_procs, *self.others]:
            if child is not None:
                self.procs.stop(child)

    def url(self, token: str) -> str:
        return f"http://{self.cfg.host}:{self.port}/in/{token}"

    def destination(self, path: str) -> str:
        return f"http://127.0.0.1:{self.dest_port}{path}"

    def endpoints(self, specs: list[tuple[str, str, int, list[int]]]) -> dict[str, str]:
        """Create endpoints (name, destination path, timeout, retry schedule); name -> token."""
        full = [(name, self.destination(path), timeout, schedule) for name, path, timeout, schedule in specs]
        done = self.procs.run(
            [self.cfg.python, str(REPO / "manage.py"), "shell", "-c", _ENDPOINTS],
            timeout=60, env={**self.env(), "BENCH_ENDPOINT_SPECS": json.dumps(full)}, cwd=REPO,
        )
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_ENDPOINTS="):
                return json.loads(line.removeprefix("BENCH_ENDPOINTS="))
        raise BenchError(f"endpoints not created:\n{done.stdout}\n{done.stderr}")

    def pause(self, token: str, paused: bool) -> float:
        """Pause, or resume (releasing held events); the wall time it took effect."""
        script = _RESUME if not paused else (
            "import os\nfrom endpoints.models import Endpoint\n"
            "Endpoint.objects.filter(ingest_token=os.environ['BENCH_TOKEN']).update(paused=True)"
        )
        self.procs.run([self.cfg.python, str(REPO / "manage.py"), "shell", "-c", script], timeout=60,
                       env={**self.env(), "BENCH_TOKEN": token}, cwd=REPO)
        return time.time()

    def arrivals(self) -> list[tuple[float, str, str]]:
        out = []
        for line in _read(self.dest_log).splitlines():
            at, path, webhook_id = line.split(" ")
            out.append((float(at), path, webhook_id))
        return out

    def cpu(self) -> dict[str, float]:
        backends = pids_cpu_seconds(backend_pids(self.cfg))
        return {
            "worker": sum(group_cpu_seconds(p.pid) for p in self.worker_procs),
            "web": group_cpu_seconds(self.web.pid) if self.web else 0.0,
            "postgres": sum(backends.values()),
            **{f"pg:{pid}": cpu for pid, cpu in backends.items()},
        }


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds between two readings (backends that appeared count from 0)."""
    pg = sum(cpu - before.get(key, 0.0) for key, cpu in after.items() if key.startswith("pg:"))
    return {"worker": after["worker"] - before["worker"], "web": after["web"] - before["web"], "postgres": pg}


@dataclass
class Sent:
    event_id: str
    scheduled: float  # wall clock, comparable with the destination's
    token: str


async def _burst(stack: Stack, token: str, count: int, connections: int) -> list[Sent]:
    sent: list[Sent] = []
    async with Poster(stack.cfg.host, stack.port, connections, stack.cfg.request_timeout_s) as poster:
        request = poster.request(token)
        remaining = count

        async def client() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                at = time.time()
                event_id = await poster.post(request)
                if event_id:
                    sent.append(Sent(event_id, at, token))

        await asyncio.gather(*(client() for _ in range(connections)))
    return sent


def burst(stack: Stack, token: str, count: int, connections: int = 32) -> list[Sent]:
    return uvloop.run(_burst(stack, token, count, connections))


async def _open_loop(stack: Stack, tokens: list[tuple[str, float]], seconds: float) -> list[Sent]:
    """Each (token, rate) posted on its own fixed schedule; latency counts from the schedule."""
    sent: list[Sent] = []
    async with Poster(stack.cfg.host, stack.port, 64, stack.cfg.request_timeout_s) as poster:
        requests = {token: poster.request(token) for token, _ in tokens}
        start = time.time() + 0.2
        schedule = sorted(
            (start + i / rate, token) for token, rate in tokens for i in range(int(rate * seconds))
        )
        tasks = []

        async def one(at: float, token: str) -> None:
            event_id = await poster.post(requests[token])
            if event_id:
                sent.append(Sent(event_id, at, token))

        for at, token in schedule:
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(at, token)))
        await asyncio.gather(*tasks)
    return sent


def open_loop(stack: Stack, tokens: list[tuple[str, float]], seconds: float) -> list[Sent]:
    return uvloop.run(_open_loop(stack, tokens, seconds))


@dataclass
class Arrived:
    first: dict[str, float]  # webhook-id -> first arrival
    duplicates: int
    missing: int


def wait_for(stack: Stack, sent: list[Sent], timeout: float, copies: int = 1) -> Arrived:
    """Wait until each sent event arrived `copies` times (or the timeout)."""
    wanted = {s.event_id for s in sent}
    deadline = time.monotonic() + timeout
    while True:
        counts: collections.Counter[str] = collections.Counter()
        first: dict[str, float] = {}
        for at, _path, webhook_id in stack.arrivals():
            if webhook_id in wanted:
                counts[webhook_id] += 1
                first.setdefault(webhook_id, at)
        if all(counts[w] >= copies for w in wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # Quiet time: a late duplicate would show up now.
    time.sleep(1.0)
    counts = collections.Counter(w for _at, _p, w in stack.arrivals() if w in wanted)
    return Arrived(
        first=first,
        duplicates=sum(max(0, n - copies) for n in counts.values()),
        missing=sum(1 for w in wanted if counts[w] < copies),
    )


def profile(pid: int, seconds: float, out: Path, children: bool = False) -> subprocess.Popen | None:
    """py-spy sampling one process, with its children if asked (busy samples
    only), if available."""
    spy = Path(os.environ.get("PY_SPY", Path(BenchConfig().python).with_name("py-spy")))
    if not spy.exists():
        return None
    return subprocess.Popen(
        [str(spy), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200", "-f", "raw", "-o", str(out),
         "--nonblocking", *(["--subprocesses"] if children else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def top_frames(raw: Path, limit: int = 6) -> tuple[str, int]:
    """The costliest functions of a py-spy raw profile: our own code by the
    share of busy samples that pass through it, and any code by its own time."""
    ours: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    for line in _read(raw).splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        leaves[_frame_name(frames[-1])] += n
        for name in {_frame_name(f) for f in frames if _frame_path(f).split("/")[0] in OUR_APPS}:
            ours[name] += n
    if not total:
        return "no samples", 0
    def top(counter: collections.Counter[str]) -> str:
        return ", ".join(f"{n / total:.0%} {name}" for name, n in counter.most_common(limit))
    return f"ours (inclusive): {top(ours)} | self time: {top(leaves)}", total


OUR_APPS = {"config", "deliveries", "endpoints", "events", "monitoring", "realtime", "replays"}


def _frame_path(frame: str) -> str:
    """py-spy names frames `function (package/module.py:12)`."""
    return frame.partition(" (")[2].split(":")[0]


def _frame_name(frame: str) -> str:
    """`function (package/module.py:12)` -> `module.function`."""
    module = _frame_path(frame).rsplit("/", 1)[-1].removesuffix(".py")
    return f"{module}.{frame.partition(' (')[0]}"
