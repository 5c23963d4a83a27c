"""Steps the browser tests share: signing in, sending webhooks, finding rows."""

import requests
from django.conf import settings
from django.test import Client
from playwright.sync_api import Locator, Page, expect

from endpoints.models import Endpoint


def sign_in(page: Page, user, base_url: str) -> None:
    """Give the browser a session for `user` without typing a password.

    The test process hashes passwords with MD5 for speed and the server
    process cannot check those, so the session is made here, in the shared
    database, the way the test client's force_login makes it.
    """
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}])


def ingest_url(server, endpoint: Endpoint) -> str:
    return f"{server.url}/in/{endpoint.ingest_token}"


def send(url: str, body: bytes = b'{"hello": "world"}', headers: dict[str, str] | None = None) -> str:
    """POST a webhook the way a sender would; the stored event's id."""
    response = requests.post(url, data=body, headers={"content-type": "application/json", **(headers or {})}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["event_id"]


def open_live(page: Page, path: str) -> None:
    page.goto(path)
    expect_live(page)


def expect_live(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_text("LIVE")


def stream_rows(page: Page) -> Locator:
    return page.locator("#event-stream tr[data-event-id]")


def event_row(page: Page, event_id: str) -> Locator:
    return page.locator(f'#event-stream tr[data-event-id="{event_id}"]')


def status_badge(row: Locator) -> Locator:
    return row.locator('[data-field="status"] .badge')
