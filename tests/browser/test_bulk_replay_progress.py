"""A bulk replay's page: the progress bar moves live to done, and Cancel stops the job."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from deliveries.models import DeliveryAttempt
from endpoints.models import Endpoint
from events.models import Event, EventStatus
from replays.models import BulkReplay, ReplayState
from tests.browser.support import expect_live, sign_in
from tests.support.processes import wait_until
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db(transaction=True)

PROGRESS = "#replay-progress"


def failed_events(endpoint: Endpoint, count: int) -> None:
    start = timezone.now() - timedelta(hours=1)
    Event.objects.bulk_create(
        Event(endpoint=endpoint, method="POST", body=b"{}", size=2, status=EventStatus.FAILED,
              received_at=start + timedelta(seconds=i))
        for i in range(count)
    )


def start_from_the_endpoint_page(page: Page, endpoint: Endpoint) -> None:
    page.goto(f"/endpoints/{endpoint.public_id}/")
    page.get_by_role("link", name="Bulk replay").click()
    expect(page.locator("#id_status")).to_have_value("failed")
    page.get_by_role("button", name="Start replay").click()
    expect(page).to_have_url(re.compile(r"/replays/rpl_[a-z0-9]+/$"))
    expect_live(page)


def test_the_progress_bar_moves_to_done(page: Page, server, worker, alice, receiver) -> None:
    receiver.script(Reply(status=200, delay=0.1))
    endpoint = Endpoint.objects.create(owner=alice, name="Shop", destination_url=receiver.url)
    failed_events(endpoint, 80)
    sign_in(page, alice, server.url)
    start_from_the_endpoint_page(page, endpoint)

    bar = page.locator(PROGRESS)
    expect(bar).to_have_attribute("max", "80")
    # Part way: the live messages move the bar before the job ends.
    page.wait_for_function(
        """() => {
            const bar = document.querySelector('#replay-progress');
            const done = bar.value;
            return bar.dataset.state === 'running' && done > 0 && done < 80;
        }""",
        timeout=20_000,
    )
    expect(bar).to_have_attribute("data-state", "done", timeout=30_000)
    expect(bar).to_have_js_property("value", 80)
    expect(bar).to_have_text("100 %")
    expect(page.locator('#bulk-replay [data-field="state"]')).to_have_text("done")
    expect(page.locator('[data-field="summary"]')).to_have_text("Finished: 80 events replayed, 80 delivered, 0 failed.")
    expect(page.locator("#cancel-replay")).to_be_hidden()
    assert len(receiver.requests) == 80


def test_cancel_stops_the_replay(page: Page, server, worker, alice, receiver) -> None:
    receiver.script(Reply(status=200, delay=0.5))
    endpoint = Endpoint.objects.create(owner=alice, name="Shop", destination_url=receiver.url)
    failed_events(endpoint, 60)
    sign_in(page, alice, server.url)
    start_from_the_endpoint_page(page, endpoint)

    page.wait_for_function("() => document.querySelector('#replay-progress').value > 0")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator('#bulk-replay [data-field="state"]')).to_have_text("cancelled")
    expect(page.locator("#cancel-replay")).to_be_hidden()

    job = wait_until(
        lambda: BulkReplay.objects.filter(state=ReplayState.CANCELLED, claimed_until=None).first(),
        timeout=30, message="the job to stop",
    )
    assert 0 < job.done < 60
    assert job.done == len(receiver.requests) == DeliveryAttempt.objects.count()
    # The job's last message brings the final counts to the page.
    expect(page.locator(PROGRESS)).to_have_js_property("value", job.done)
    expect(page.locator('[data-field="summary"]')).to_have_text(
        f"Cancelled after {job.done} of 60: {job.done} delivered, 0 failed; the rest was not sent."
    )
