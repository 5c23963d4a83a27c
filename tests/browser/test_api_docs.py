"""The API docs still work under the Content-Security-Policy (no inline script)."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_renders_every_operation(page: Page):
    response = page.goto("/api/v1/docs/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_text("Issue an API key")).to_be_visible()
    expect(page.get_by_text("Log out: blacklist a refresh token")).to_be_visible()
