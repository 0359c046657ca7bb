"""Real browser tests: Playwright's Python API driving Debian's Chromium (no browser download)."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI and was not found at {CHROMIUM}")
        pytest.skip("Chromium is not installed (make install provides it)")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(autouse=True)
def csp_violations():
    """Content Security Policy violations the browser reports during the test: none allowed."""
    found: list[str] = []
    yield found
    assert not found, "a page broke its Content Security Policy:\n" + "\n".join(found)


@pytest.fixture
def confirmations():
    """What the browser asked to confirm during the test (accepted)."""
    return []


@pytest.fixture
def new_context(browser, csp_violations, confirmations):
    """new_context(locale) -> a browser context (one person's cookies) whose console is watched
    for CSP violations: every page of every browser test is checked against the policy the
    server sends."""

    def make(locale: str = "zh-CN"):
        context = browser.new_context(locale=locale)

        def watch(message):
            if message.type == "error" and "Content Security Policy" in message.text:
                csp_violations.append(f"{message.location.get('url', '')}: {message.text}")

        context.on("console", watch)

        def confirm_yes(page):
            # the confirmations of irreversible steps (data-confirm) are accepted and kept for the
            # test to read; a test that cancels one removes this handler (page.accept_dialogs)
            def accept(dialog):
                confirmations.append(dialog.message)
                dialog.accept()

            page.accept_dialogs = accept
            page.on("dialog", accept)

        context.on("page", confirm_yes)
        return context

    return make


@pytest.fixture
def page(new_context):
    context = new_context("zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
