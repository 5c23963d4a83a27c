"""The live stream survives a server restart and replays what it missed."""

import pytest
from playwright.sync_api import Page, expect

from endpoints.models import Endpoint
from tests.browser.support import event_row, expect_live, ingest_url, open_live, send, sign_in, status_badge, stream_rows
from tests.support import processes

pytestmark = pytest.mark.django_db(transaction=True)


def restart_web(stack) -> None:
    stack.web = processes.web(stack.port, stack.env, stack.log_dir)
    stack.web.start()
    processes.wait_http(stack.url + "/in/ready-check")


def test_the_dashboard_reconnects_after_a_restart_and_shows_what_it_missed(
    page: Page, server, worker, alice, receiver
) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Orders", destination_url=receiver.url)
    url = ingest_url(server, endpoint)
    sign_in(page, alice, server.url)
    open_live(page, "/")
    before = send(url)
    expect(status_badge(event_row(page, before))).to_have_text("delivered")
    refetches: list[str] = []
    page.on("request", lambda request: "/api/v1/events/" in request.url and refetches.append(request.url))

    try:
        server.web.stop()
        expect(page.locator("#live-status")).to_have_text("RECONNECTING")
        # While the browser reports no network, live.js waits for "online"
        # instead of retrying: the event below is stored before the page can
        # reconnect, whatever its backoff timer says, so only `since` brings it.
        page.context.set_offline(True)
        restart_web(server)
        missed = send(url)
        receiver.wait_for(2)
        expect(page.locator("#live-status")).to_have_text("RECONNECTING")
        expect(event_row(page, missed)).to_have_count(0)
    finally:
        page.context.set_offline(False)
        if server.web.proc is None or server.web.proc.poll() is not None:
            restart_web(server)

    expect_live(page)
    expect(status_badge(event_row(page, missed))).to_have_text("delivered")
    after = send(url)
    expect(status_badge(event_row(page, after))).to_have_text("delivered")
    ids = stream_rows(page).evaluate_all("rows => rows.map(row => row.dataset.eventId)")
    assert ids == [after, missed, before]
    assert refetches == [], "the missed event should come from the replay after `since`, not a refetch"


def test_an_event_sent_the_moment_the_server_is_back_shows_up(page: Page, server, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Inbox")
    url = ingest_url(server, endpoint)
    sign_in(page, alice, server.url)
    open_live(page, "/")

    try:
        server.web.stop()
        expect(page.locator("#live-status")).to_have_text("RECONNECTING")
    finally:
        restart_web(server)
    # Whether the page reconnects before or after this POST, it must show it:
    # live if already subscribed, otherwise by the refetch of an empty page.
    right_after = send(url)

    expect_live(page)
    expect(status_badge(event_row(page, right_after))).to_have_text("received")
    expect(page.locator("#event-stream tr.empty")).to_have_count(0)
