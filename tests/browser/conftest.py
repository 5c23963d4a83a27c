"""A real Chromium (Debian's; Playwright never downloads one) on the real stack.

Playwright's sync API keeps an asyncio loop marked as running in this thread
while it is started. Django then refuses ORM calls from the test body unless
DJANGO_ALLOW_ASYNC_UNSAFE is set, and pytest-asyncio cannot start its own
loop. So the browser starts on first use and stops as soon as the next test
is outside tests/browser, and the variable is set only while it runs (after
the stack's processes took their environment, so they never inherit it).
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
HERE = Path(__file__).resolve().parent

expect.set_options(timeout=10_000)


class Chromium:
    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._saved_flag: str | None = None

    @property
    def browser(self) -> Browser:
        if self._browser is None:
            self._saved_flag = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return self._browser

    def stop(self) -> None:
        if self._playwright is None:
            return
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            self._playwright.stop()
            self._browser = self._playwright = None
            if self._saved_flag is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self._saved_flag


_chromium = Chromium()


def _in_browser_tests(item: pytest.Item | None) -> bool:
    return item is not None and HERE in Path(str(item.path)).resolve().parents


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    # After the fixtures' own teardown (the database flush needs the flag).
    result = yield
    if not _in_browser_tests(nextitem):
        _chromium.stop()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    """One browser for the whole run of tests/browser (contexts keep tests apart)."""
    return _chromium


@pytest.fixture
def page(chromium: Chromium, server, artifacts: Path, request: pytest.FixtureRequest) -> Page:
    # `server` first: the stack's processes copy os.environ before the
    # browser sets DJANGO_ALLOW_ASYNC_UNSAFE.
    context = chromium.browser.new_context(viewport=VIEWPORT, base_url=server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = artifacts / "browser"
        folder.mkdir(exist_ok=True)
        page.screenshot(path=str(folder / f"{request.node.name}.png"), full_page=True)
        (folder / f"{request.node.name}.log").write_text("\n".join(problems))
    context.close()
    # A CSP violation only logs to the console; it still breaks the page.
    errors = [problem for problem in problems if problem.startswith("page error") or "Content Security Policy" in problem]
    assert not errors, errors
