"""Retry the end-of-test TRUNCATE when PostgreSQL picks it as a deadlock victim.

Transactional tests share the database with the stack's web and worker
processes, which keep claiming rows (the engine polls for due retries every
quarter second). TRUNCATE takes its table locks one table at a time, so a
worker that holds a row lock on `events` and wants `deliveries` can
deadlock with it; PostgreSQL then aborts one side. When that side is the
flush, the test that just passed would error in teardown. The flush runs in
one transaction, so trying again starts clean.
"""

import time

from django.core.management.base import CommandError
from django.test import TransactionTestCase

ATTEMPTS = 5


def _is_deadlock(exc: BaseException) -> bool:
    while exc is not None:
        if "deadlock detected" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def retry_flush_on_deadlock() -> None:
    original = TransactionTestCase._fixture_teardown

    def fixture_teardown(self: TransactionTestCase) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return original(self)
            except CommandError as exc:
                if attempt == ATTEMPTS or not _is_deadlock(exc):
                    raise
                time.sleep(0.1 * attempt)

    TransactionTestCase._fixture_teardown = fixture_teardown
