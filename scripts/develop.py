"""`scripts/develop`: the simulator and Home Assistant with the integration, ready to log in to."""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import shutil
import signal
import sys
import time
from typing import Any

from scripts.devstack import (
    ROOT,
    HassProcess,
    SimulatorProcess,
    StackError,
    port_in_use,
    prepare_config_dir,
)
from scripts.hass_client import HassClient
from smartcar_simulator.simulator import DEFAULT_MANAGEMENT_TOKEN, DEFAULT_WEBHOOK_ID
from smartcar_simulator.v3 import DEFAULT_APPLICATION_ID as APPLICATION_ID

DEV_DIR = ROOT / ".dev"
# Besides what the UI needs: history, and what automations, blueprints and Assist need.
DEMO_COMPONENTS = ("history", "logbook", "automation", "blueprint", "script", "conversation")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description="Run the Smartcar simulator and Home Assistant with the integration, both on "
        "127.0.0.1, onboarded and (unless --no-connect) connected. State lives in .dev/.",
    )
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant (default 8123)")
    parser.add_argument("--sim-port", type=int, default=8765, help="the simulator (default 8765)")
    parser.add_argument(
        "--no-connect", action="store_true", help="do not add the simulated Smartcar account"
    )
    parser.add_argument(
        "--api",
        choices=("v2", "v3"),
        default="v2",
        help="the Smartcar API version of the demo's application (default v2; v3 keeps its "
        "state in .dev/api-v3/)",
    )
    parser.add_argument(
        "--no-webhooks",
        action="store_true",
        help="no webhooks: the entry gets no management token (one it has is removed) and the "
        "simulator delivers nothing; Home Assistant only polls",
    )
    parser.add_argument("--reset", action="store_true", help="wipe .dev/ and start afresh")
    return parser.parse_args(argv)


def login_details() -> dict[str, str]:
    """The owner's user name and password: kept in .dev/credentials.json, made up the first time."""
    path = DEV_DIR / "credentials.json"
    with contextlib.suppress(OSError, ValueError):
        stored = json.loads(path.read_text())
        if stored.get("username") and stored.get("password"):
            return dict(stored)
    details = {"username": "dev", "password": secrets.token_urlsafe(12)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(details, indent=2))
    path.chmod(0o600)
    return details


def setup_webhooks(
    client: HassClient, sim_url: str, entries: list[dict[str, Any]], *, enabled: bool
) -> str:
    """Webhooks from the simulator to the (first loaded) entry: the entry gets the simulator's
    management token in its options, the simulator's webhook points at the entry's and VERIFY
    succeeds; the simulator then delivers every change within a second. Disabled: the token is
    removed. What to print."""
    loaded = [e for e in entries if e["state"] == "loaded"]
    if not loaded:
        return "off (no Smartcar entry loaded)"
    entry_id = loaded[0]["entry_id"]
    if not enabled:
        client.set_management_token(entry_id, None)
        return "off (--no-webhooks: Home Assistant polls)"
    print("connecting the simulator's webhook to Home Assistant (VERIFY) …", flush=True)
    url, verification = client.connect_webhook(
        entry_id, sim_url, DEFAULT_MANAGEMENT_TOKEN, DEFAULT_WEBHOOK_ID
    )
    if not verification.get("verified"):  # pragma: no cover - connect_webhook raises first
        raise StackError(f"the simulator's webhook did not verify: {verification}")
    return (
        f"the simulator delivers to {url} (verified; a change in the simulator shows within "
        f"seconds; faults and log: {sim_url}/sim/webhooks)"
    )


def _stop(signum: int, frame: object) -> None:
    """SIGINT and SIGTERM end the wait (SIGINT too: a shell starts background jobs ignoring it)."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Start both, onboard, store the app's credentials, connect; wait for Ctrl-C."""
    args = arguments(argv)
    if args.reset and DEV_DIR.exists():
        shutil.rmtree(DEV_DIR)
        print("wiped .dev/")
    for port, option in ((args.port, "--port"), (args.sim_port, "--sim-port")):
        if port_in_use(port):
            print(f"error: 127.0.0.1:{port} is in use (choose another with {option})")
            return 2
    login = login_details()
    api = args.api.removeprefix("v")
    # A config dir holds one application's credentials: v3 has its own state.
    state = DEV_DIR if api == "2" else DEV_DIR / "api-v3"
    logs, config_dir = state / "logs", state / "config"
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    running = contextlib.ExitStack()  # stops what started, last first
    try:
        print(f"starting the Smartcar simulator on 127.0.0.1:{args.sim_port} …", flush=True)
        sim = SimulatorProcess(args.sim_port, state / "simulator.json", logs / "simulator.log")
        running.callback(lambda: print(f"simulator stopped ({sim.stop()})"))
        prepare_config_dir(config_dir, args.port, sim.url, extras=DEMO_COMPONENTS)
        print(f"starting Home Assistant on 127.0.0.1:{args.port} (config {config_dir}) …")
        hass = HassProcess(config_dir, args.port, logs / "home-assistant.log")
        running.callback(lambda: print(f"Home Assistant stopped ({hass.stop()})"))
        client = HassClient.onboard(hass.url, login["username"], login["password"])
        client.wait_running()
        print(f"  onboarded and running ({time.monotonic() - started:.0f} s)")
        if client.ensure_credentials(api):
            print(f"stored the simulator's application credentials (API v{api})")
        if not client.entries() and not args.no_connect:
            how = "OAuth through Connect" if api == "2" else "API v3: Application ID, Connect"
            print(f"connecting the simulated Smartcar account ({how}) …")
            client.connect("simulated", api=api)
            client.wait_entry_state("loaded")
        entries = client.entries()
        voice = "off (no Smartcar entry)"
        if entries:
            exposed, _ = client.setup_voice()
            voice = f"{len(exposed)} car entities exposed, voice blueprint's sentences added"
        webhooks = setup_webhooks(client, sim.url, entries, enabled=not args.no_webhooks)
        entities = client.template("{{ integration_entities('smartcar') | count }}")
        print(f"\nHome Assistant is ready after {time.monotonic() - started:.0f} s: {hass.url}")
        print(f"  username: {login['username']}\n  password: {login['password']}")
        print(f"  simulator: {sim.url} (control endpoints under {sim.url}/sim/)")
        print(f"  Smartcar API: v{api}")
        for entry in entries:
            print(f"  Smartcar entry: {entry['title']} ({entry['state']}), {entities} entities")
        if not entries:
            print("  Smartcar: not connected (Settings → Devices & services → Add integration)")
            if api == "3":
                print(f"  the simulator's Application ID (the v3 flow asks): {APPLICATION_ID}")
        print(f"  webhooks: {webhooks}")
        print(f'  Assist: {voice} (try: "set Tesla Model 3 charge limit to 90")')
        print(f"  logs: {logs}/  ·  state: {state}/  ·  Ctrl-C stops both", flush=True)
        while True:
            hass.check_alive()
            sim.check_alive()
            time.sleep(1)
    except KeyboardInterrupt as stop:
        print(f"\n{stop}: stopping …", flush=True)
        return 0
    except StackError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        running.close()


if __name__ == "__main__":
    sys.exit(main())
