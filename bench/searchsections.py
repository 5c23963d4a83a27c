"""What search indexing costs behind ingest (events/search.py): the events
the ingest sections stored wait in the backlog; the indexer drains it in
one process, as a worker would, and says how fast and at what CPU."""

from __future__ import annotations

from bench import prepare
from bench.report import Row, Target

# Run in `manage.py shell` on the bench database. The CPU of the indexer's
# own Postgres backend is read from /proc (same machine).
_DRAIN = """
import os, time
from django.db import connection
from events import search
from events.models import SearchBacklog
with connection.cursor() as cursor:
    cursor.execute("SELECT pg_backend_pid()")
    pid = cursor.fetchone()[0]
def backend_cpu():
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
waiting = SearchBacklog.objects.count()
pg0, cpu0, t0 = backend_cpu(), time.process_time(), time.perf_counter()
taken = 0
while True:
    done = search.index_backlog(seconds=60.0)
    taken += done
    if not done:
        break
print("BENCH_SEARCH_WAITING=%d" % waiting)
print("BENCH_SEARCH_TAKEN=%d" % taken)
print("BENCH_SEARCH_SECONDS=%.3f" % (time.perf_counter() - t0))
print("BENCH_SEARCH_CPU=%.3f" % (time.process_time() - cpu0))
print("BENCH_SEARCH_PG_CPU=%.3f" % (backend_cpu() - pg0))
print("BENCH_SEARCH_LEFT=%d" % SearchBacklog.objects.count())
"""


_PRINTED = ("WAITING", "TAKEN", "SECONDS", "CPU", "PG_CPU", "LEFT")


def indexing(ctx) -> list[Row]:
    printed = prepare.shell_printed(ctx.cfg, ctx.procs, _DRAIN, "BENCH_SEARCH_", _PRINTED, 600, "the search indexer")
    got = {name.lower(): float(value) for name, value in printed.items()}
    taken = int(got["taken"]) or 1
    stored = sum(ctx.answers.values())
    name = "search indexing behind ingest"
    return [
        Row(name, "backlog at start", got["waiting"], "", Target("==", stored),
            "every event ingest stored, left for the indexer (none indexed while answering)"),
        Row(name, "indexed", got["taken"], "", note=f"{got['left']:.0f} left in the backlog afterwards"),
        Row(name, "rate", taken / got["seconds"], "ev/s", note=f"one process, batches of 1,000, {got['seconds']:.1f}s"),
        Row(name, "indexer CPU / event", got["cpu"] / taken * 1e6, "us", note="Python: read, text, write"),
        Row(name, "postgres CPU / event", got["pg_cpu"] / taken * 1e6, "us",
            note="the trigram index, the search row, the backlog row's delete"),
    ]
