"""The end-of-test flush survives being chosen as a deadlock victim, and only that."""

import pytest
from django.core.management.base import CommandError
from django.db import OperationalError
from django.test import TransactionTestCase

from tests.support import flush


def _failing(errors: list[BaseException]):
    calls = []

    def teardown(self) -> None:
        calls.append(1)
        if errors:
            error = errors.pop(0)
            raise CommandError("Database couldn't be flushed.") from error

    return teardown, calls


@pytest.fixture
def patched(monkeypatch):
    def install(errors: list[BaseException]):
        teardown, calls = _failing(errors)
        monkeypatch.setattr(TransactionTestCase, "_fixture_teardown", teardown)
        flush.retry_flush_on_deadlock()
        monkeypatch.setattr(flush.time, "sleep", lambda _seconds: None)
        return calls

    return install


def test_a_deadlocked_flush_is_tried_again(patched) -> None:
    calls = patched([OperationalError("deadlock detected"), OperationalError("deadlock detected")])
    TransactionTestCase._fixture_teardown(TransactionTestCase())
    assert len(calls) == 3


def test_any_other_flush_error_is_raised_at_once(patched) -> None:
    calls = patched([OperationalError("relation does not exist")])
    with pytest.raises(CommandError):
        TransactionTestCase._fixture_teardown(TransactionTestCase())
    assert len(calls) == 1


def test_it_gives_up_after_its_last_attempt(patched) -> None:
    calls = patched([OperationalError("deadlock detected")] * flush.ATTEMPTS)
    with pytest.raises(CommandError):
        TransactionTestCase._fixture_teardown(TransactionTestCase())
    assert len(calls) == flush.ATTEMPTS
