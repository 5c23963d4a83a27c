"""The processes `make run` starts (web, worker, beat), against the test database."""

from pathlib import Path

import psutil

from tests.support import processes

STACK_APPLICATION_NAME = "hookline-test-stack"


class Stack:
    def __init__(self, database_name: str, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.port = processes.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Short leases and sweeps so fault tests finish in seconds; the lease
        # still outlasts every scripted receiver delay of the tests (<= 5 s).
        self.env = processes.child_env(
            database_name, DELIVERY_LEASE_SECONDS="6", SWEEP_INTERVAL_SECONDS="0.3", DB_POOL_TIMEOUT="2",
            DB_APPLICATION_NAME=STACK_APPLICATION_NAME,
            # Monitoring's minute runs when a test calls it, not at a random
            # moment of another test (it writes rollups and alerts).
            MONITOR_INTERVAL_SECONDS="86400",
            PUBLIC_BASE_URL=f"http://127.0.0.1:{self.port}",
        )
        self.web = processes.web(self.port, self.env, log_dir)
        self.worker = processes.worker(self.env, log_dir)
        self.beat = processes.beat(self.env, log_dir)
        self._worker_generation = 0
        self.rivals: list[processes.Process] = []

    def start_web(self) -> None:
        if self.web.proc is None:
            self.web.start()
            processes.wait_http(self.url + "/in/ready-check")

    def start_worker(self) -> None:
        if self.worker.proc is None or self.worker.proc.poll() is not None:
            self._worker_generation += 1
            self.worker = processes.worker(self.env, self.log_dir, name=f"worker{self._worker_generation}")
            self.worker.start()
            processes.wait_until(lambda: "ready." in self.worker.log(), timeout=30, message="celery worker ready")
        if self.beat.proc is None:
            self.beat.start()

    def start_rival_worker(self) -> processes.Process:
        """One more worker process, racing the others for the same due events."""
        rival = processes.worker(self.env, self.log_dir, name=f"rival{len(self.rivals) + 1}")
        self.rivals.append(rival)
        rival.start()
        processes.wait_until(lambda: "ready." in rival.log(), timeout=30, message="second celery worker ready")
        return rival

    def server_processes(self) -> list[psutil.Process]:
        """The web server's worker processes (the parent only supervises them)."""
        return psutil.Process(self.web.proc.pid).children()

    def kill_worker(self) -> None:
        self.worker.stop(sig_kill=True)

    def stop(self) -> None:
        for process in (self.beat, *self.rivals, self.worker, self.web):
            process.stop()
