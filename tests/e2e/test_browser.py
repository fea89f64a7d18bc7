"""One journey in a real browser: log in, add Smartcar through the UI, see a car's device page.

Debian's chromium (scripts/setup-browser installs it) driven by Playwright from PyPI; the stack
is a fresh one, onboarded with the app credentials but without the Smartcar entry.
"""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import re
import shutil
from typing import Any

import pytest

from scripts.devstack import ROOT

from .stack import ARTIFACTS, PASSWORD, USERNAME, Stack, stack_fixture

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ARTIFACTS / "browser"


def chromium() -> str | None:
    """Debian's chromium (or $SMARTCAR_CHROMIUM)."""
    for candidate in (os.environ.get("SMARTCAR_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


# Home Assistant onboarded, credentials stored, no Smartcar entry yet.
browser_stack = stack_fixture("browser_stack", connect=False)


@pytest.fixture
def page(browser_stack: Stack) -> Iterator[Any]:
    """A Playwright page in headless chromium."""
    executable = chromium()
    if executable is None:
        pytest.skip("Chromium not found (run scripts/setup-browser, or set SMARTCAR_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(20_000)
            page = context.new_page()
            try:
                yield page
            except BaseException:
                page.screenshot(path=SCREENSHOTS / "failure.png")
                raise
            finally:
                context.close()
        finally:
            browser.close()


def shot(page: Any, name: str) -> Path:
    """A screenshot in test-artifacts/browser/."""
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path)
    return path


def test_add_smartcar_in_the_browser(browser_stack: Stack, page: Any) -> None:
    """Log in, Settings → Devices & services → Add integration → Smartcar, approve, device."""
    from playwright.sync_api import expect

    client, sim = browser_stack.client, browser_stack.sim
    url = browser_stack.hass.url
    page.goto(url)
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/home|/lovelace"))
    shot(page, "01-logged-in")

    page.get_by_role("link", name="Settings").click()
    page.wait_for_url(re.compile(r"/config"))
    page.get_by_role("link", name=re.compile("Devices & services")).first.click()
    page.wait_for_url(re.compile(r"/config/integrations"))
    page.get_by_role("button", name=re.compile("Add integration", re.IGNORECASE)).click()
    page.get_by_placeholder("Search for a brand name").fill("Smartcar")
    page.get_by_text("Smartcar", exact=True).first.click()
    # The first step: real or simulated vehicles.
    page.get_by_text("Smartcar simulated vehicles").click()
    shot(page, "02-mode")
    with page.context.expect_page() as popup_info:
        page.get_by_role("button", name=re.compile("Submit|Next", re.IGNORECASE)).click()
    consent = popup_info.value
    consent.wait_for_load_state()
    assert "/oauth/authorize" in consent.url
    consent.screenshot(path=SCREENSHOTS / "03-consent.png")
    consent.locator("#approve").click()

    # Back in Home Assistant: the flow finished; the success dialog offers areas.
    expect(
        page.get_by_text(re.compile("Created configuration|Success", re.IGNORECASE)).first
    ).to_be_visible()
    shot(page, "04-created")
    entries = client.entries()
    assert [e["state"] for e in entries] == ["loaded"]
    assert sim.counters()["token_requests"]["authorization_code"] == 1
    page.get_by_role("button", name=re.compile("Finish|Skip", re.IGNORECASE)).first.click()

    # The integration's page lists the cars; open the Tesla.
    page.goto(f"{url}/config/integrations/integration/smartcar")
    page.get_by_text("Tesla Model 3").first.click()
    page.wait_for_url(re.compile(r"/config/devices/device/"))
    expect(page.get_by_text("Charge limit").first).to_be_visible()
    expect(page.get_by_text("Battery").first).to_be_visible()
    page.wait_for_timeout(500)
    final = shot(page, "05-device")
    shutil.copyfile(final, ROOT / "docs" / "screenshot.png")
