"""Monitoring in a real browser: alerts appear live on the dashboard, charts
follow arriving events."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from endpoints.models import Endpoint
from monitoring.models import Alert, AlertType
from tests.browser.support import ingest_url, open_live, send, sign_in
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "monitoring.png"


def test_an_alert_appears_live_on_the_dashboard_and_leaves_when_resolved(page: Page, server, alice) -> None:
    shop = Endpoint.objects.create(owner=alice, name="Shop <script>")
    sign_in(page, alice, server.url)
    open_live(page, "/")
    expect(page.locator("[data-no-alerts]")).to_be_visible()

    alert = Alert.raise_for(shop, AlertType.INTEGRITY, "evt_1: the body is not valid <JSON>")
    item = page.locator(f'[data-open-alerts] li[data-alert-id="{alert.public_id}"]')
    expect(item).to_contain_text("integrity")
    expect(item).to_contain_text("the body is not valid <JSON>")  # as text, never markup
    expect(item.locator("a")).to_have_text("Shop <script>")
    expect(page.locator("[data-no-alerts]")).to_be_hidden()

    alert.resolve()
    expect(item).to_have_count(0)
    expect(page.locator("[data-no-alerts]")).to_be_visible()


def test_a_chart_updates_when_events_arrive(page: Page, server, alice) -> None:
    shop = Endpoint.objects.create(owner=alice, name="Shop")
    sign_in(page, alice, server.url)
    open_live(page, f"/endpoints/{shop.public_id}/monitoring/")
    chart = page.locator('img[data-chart="events"]')
    first_src = chart.get_attribute("src")
    assert 'data-total="0.00"' in page.request.get(first_src).text()

    for n in range(6):
        send(ingest_url(server, shop), b'{"n": %d}' % n)
    expect(chart).to_have_attribute("src", re.compile(r"[?&]t=\d+"))
    wait_until(lambda: 'data-total="6.00"' in page.request.get(chart.get_attribute("src")).text(),
               timeout=20, message="the chart counting 6 events")

    Alert.raise_for(shop, AlertType.TRAFFIC_SPIKE, "6 events in a minute against an average of 0.0")
    page.reload()
    expect(page.locator("#alerts")).to_contain_text("traffic_spike")
    page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True)
