"""Worker processes run below the web server's CPU priority (WORKER_NICE)."""

import psutil
import pytest

from config.run import commands, worker_command


def test_make_run_starts_workers_niced_and_the_web_server_not(monkeypatch):
    monkeypatch.delenv("WORKER_NICE", raising=False)
    web, *workers, beat = commands("8000", "2", "2")
    assert len(workers) == 2
    assert all(worker[:3] == ["nice", "-n", "5"] for worker in workers)
    assert web[0] != "nice" and beat[0] != "nice"


def test_worker_nice_zero_starts_them_at_normal_priority(monkeypatch):
    monkeypatch.setenv("WORKER_NICE", "0")
    assert worker_command("w")[0] != "nice"


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_process_has_the_lower_priority(worker):
    celery = [p for p in [psutil.Process(worker.worker.proc.pid), *psutil.Process(worker.worker.proc.pid).children()]
              if "celery" in " ".join(p.cmdline())]
    assert celery and all(p.nice() == 5 for p in celery)
