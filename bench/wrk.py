"""Closed-loop throughput with wrk, POSTing the 90-byte JSON body.

The Lua script counts answers by status and lets every connection go quiet
`drain` seconds before wrk stops, so that no request is still in flight when
wrk exits: a request the server stored but wrk never counted would break the
"stored rows == 200 answers" check. Throughput is therefore answers divided
by the busy window (measured in the script), not wrk's own requests/duration.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bench.config import BODY, BenchConfig
from bench.procs import BenchError, Processes

_LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

wrk.method = "POST"
wrk.body = BODY_PLACEHOLDER
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  started = now()
  deadline = started + tonumber(args[1])
  last = started
  ok = 0
  other = 0
end

function delay()
  if now() >= deadline then
    return 3600000  -- stay quiet until wrk stops
  end
  return 0
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
  last = now()
end

function done(summary, latency, requests)
  local ok_n, other_n, first, final = 0, 0, math.huge, 0
  for _, t in ipairs(threads) do
    ok_n = ok_n + t:get("ok")
    other_n = other_n + t:get("other")
    first = math.min(first, t:get("started"))
    final = math.max(final, t:get("last"))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"ok":%d,"other":%d,"busy_s":%.6f,"requests":%d,"duration_us":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    ok_n, other_n, final - first, summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class WrkResult:
    ok: int  # 200 answers
    other: int  # any other status
    busy_s: float
    requests: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    non_2xx_3xx: int  # wrk's own count (status > 399)
    wrk_req_s: float  # wrk's own figure: requests / full duration

    @property
    def req_s(self) -> float:
        return (self.ok + self.other) / self.busy_s if self.busy_s > 0 else 0.0

    @property
    def non_2xx(self) -> int:
        return self.other


def write_script(workdir: Path) -> Path:
    path = workdir / "post.lua"
    path.write_text(_LUA.replace("BODY_PLACEHOLDER", json.dumps(BODY.decode())))
    return path


def run(cfg: BenchConfig, procs: Processes, url: str, script: Path, seconds: int) -> WrkResult:
    busy = max(0.5, seconds - cfg.wrk_drain_seconds)
    cmd = [
        "wrk", f"-t{cfg.wrk_threads}", f"-c{cfg.wrk_connections}", f"-d{seconds}s", "--latency",
        "-s", str(script), url, "--", f"{busy:.3f}",
    ]
    done = procs.run(cmd, timeout=seconds + 30)
    match = re.search(r"^BENCH_JSON (\{.*\})$", done.stdout, re.MULTILINE)
    if match is None:
        raise BenchError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    data = json.loads(match.group(1))
    duration_s = data["duration_us"] / 1e6
    return WrkResult(
        ok=data["ok"],
        other=data["other"],
        busy_s=data["busy_s"],
        requests=data["requests"],
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        non_2xx_3xx=data["status"],
        wrk_req_s=data["requests"] / duration_s if duration_s > 0 else 0.0,
    )
