"""The ORM report store (`make run`'s SQLite path), called as the batcher would."""

import pytest
from django.utils import timezone

from monitoring.models import Report
from monitoring.reports import STORED, UNKNOWN, Submission, outcome_row, store

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_batch_stores_known_tokens_and_refuses_only_the_bad_row(endpoint) -> None:
    now = timezone.now()
    answers = store([
        Submission(endpoint.report_token, now, [outcome_row(True, {})]),
        Submission("a" * 32, now, [outcome_row(True, {})]),
        Submission(endpoint.report_token, now, [outcome_row(False, {"error_message": "nul \x00"})]),
    ])
    assert answers[:2] == [STORED, UNKNOWN]
    assert answers[2] not in (STORED, UNKNOWN)  # the database's reason
    assert list(Report.objects.values_list("succeeded", flat=True)) == [True]
