"""Real browser journeys: log in, add Smartcar through the UI, see a car's device page; the
example car dashboard (docs/dashboard.yaml) with the car's values.

Debian's chromium (scripts/setup-browser installs it) driven by Playwright from PyPI; the stack
is a fresh one, onboarded with the app credentials but without the Smartcar entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
import os
from pathlib import Path
import re
import shutil
from typing import Any

import pytest

from scripts.devstack import ROOT

from .stack import ARTIFACTS, PASSWORD, USERNAME, Client, Stack, stack_fixture

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


def log_in(page: Any, url: str) -> None:
    """Log in as the owner on Home Assistant's login page."""
    page.goto(url)
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/home|/lovelace"))


def test_add_smartcar_in_the_browser(browser_stack: Stack, page: Any) -> None:
    """Log in, Settings → Devices & services → Add integration → Smartcar, approve, device."""
    from playwright.sync_api import expect

    client, sim = browser_stack.client, browser_stack.sim
    url = browser_stack.hass.url
    log_in(page, url)
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


# docs/dashboard.yaml, saved as its own dashboard; the entities it shows.
DASHBOARD_YAML = ROOT / "docs" / "dashboard.yaml"
DASHBOARD_URL = "smartcar-car"
DASHBOARD_ENTITIES = (
    "sensor.tesla_model_3_battery",
    "sensor.tesla_model_3_electric_range",
    "switch.tesla_model_3_charging",
    "binary_sensor.tesla_model_3_plugged_in",
    "number.tesla_model_3_charge_limit",
    "lock.tesla_model_3",
    "device_tracker.tesla_model_3_location",
    "sensor.tesla_model_3_data_age",
)


def off_the_loop[T](call: Callable[[], T]) -> T:
    """Run `call` in another thread: Playwright's sync API runs an event loop in this one, and
    the client's websocket calls run their own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def save_dashboard(client: Client, url_path: str, config: dict[str, Any]) -> None:
    """Create a storage dashboard (unless there is one) and save its configuration, as the raw
    configuration editor does."""
    dashboards = client.ws_result({"type": "lovelace/dashboards/list"})
    if all(d["url_path"] != url_path for d in dashboards):
        create = {"type": "lovelace/dashboards/create", "url_path": url_path}
        client.ws_result({**create, "title": "Tesla Model 3", "icon": "mdi:car-electric"})
    client.ws_result({"type": "lovelace/config/save", "url_path": url_path, "config": config})
    saved = client.ws_result({"type": "lovelace/config", "url_path": url_path})
    assert saved == config


def test_car_dashboard(browser_stack: Stack, page: Any) -> None:
    """docs/dashboard.yaml, saved as a dashboard the way the raw configuration editor saves it,
    shows the Tesla's values; its screenshot is docs/dashboard.png."""
    from homeassistant.util.yaml import load_yaml_dict
    from playwright.sync_api import expect

    client, url = browser_stack.client, browser_stack.hass.url
    if not client.entries():  # this test alone: connect without the browser
        off_the_loop(lambda: client.connect("simulated"))
        client.wait_entry_state("loaded")

    config = load_yaml_dict(DASHBOARD_YAML)
    entities = {
        card["entity"]
        for view in config["views"]
        for section in view["sections"]
        for card in section["cards"]
        if "entity" in card
    }
    assert entities == set(DASHBOARD_ENTITIES)
    off_the_loop(lambda: save_dashboard(client, DASHBOARD_URL, config))

    states = client.states()
    for entity_id in DASHBOARD_ENTITIES:
        assert states[entity_id]["state"] not in ("unavailable", "unknown"), states[entity_id]
    battery = round(float(states["sensor.tesla_model_3_battery"]["state"]))
    lock = states["lock.tesla_model_3"]["state"]
    assert lock in ("locked", "unlocked")

    page.set_viewport_size({"width": 1280, "height": 560})  # the dashboard, little blank below
    log_in(page, url)
    page.goto(f"{url}/{DASHBOARD_URL}/{config['views'][0]['path']}")
    expect(page.get_by_text("Tesla Model 3").first).to_be_visible()

    def tile(name: str, value: str) -> None:
        """A tile named `name` shows a state matching `value`."""
        pattern = re.compile(rf"^{re.escape(name)} (?:{value})$")
        expect(page.get_by_role("button", name=pattern)).to_be_visible()

    # Every tile shows the car's value, as Home Assistant's state has it.
    tile("Battery", rf"{battery}\s?%")
    range_ = states["sensor.tesla_model_3_electric_range"]
    unit = range_["attributes"]["unit_of_measurement"]
    tile("Range", rf"{round(float(range_['state']))} {unit}")
    tile("Charging", {"on": "On", "off": "Off"}[states["switch.tesla_model_3_charging"]["state"]])
    plugged = states["binary_sensor.tesla_model_3_plugged_in"]["state"]
    tile("Plugged in", {"on": "Plugged in", "off": "Unplugged"}[plugged])
    limit = round(float(states["number.tesla_model_3_charge_limit"]["state"]))
    tile("Charge limit", rf"{limit}\s?%")
    tile("Doors", lock.capitalize())
    where = states["device_tracker.tesla_model_3_location"]["state"]
    tile("Location", {"home": "Home", "not_home": "Away"}.get(where, re.escape(where)))
    tile("Data from", r".+ ago|now")  # relative to the browser's clock
    # No card failed to load its configuration, none lacks its entity.
    expect(page.locator("hui-error-card")).to_have_count(0)
    expect(page.get_by_text("Entity not available")).to_have_count(0)
    page.wait_for_timeout(1000)  # the gauge and slider settle
    final = shot(page, "06-dashboard")
    shutil.copyfile(final, ROOT / "docs" / "dashboard.png")
