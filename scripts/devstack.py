"""The Smartcar simulator and a real Home Assistant with the integration, as subprocesses.

`scripts/develop` runs them for a person; the end-to-end tests (tests/e2e/stack.py) run them for
pytest. Everything after the start goes through Home Assistant's own APIs (onboarding, REST,
websocket), as its frontend does; the config directory gets only what those APIs cannot set.
HTTP is synchronous (requests) and the processes log to files, so this runs the same from a
plain script and from sync tests inside pytest-homeassistant-custom-component's harness.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
import html
import json
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
DOMAIN = "smartcar"
LOCALHOST = "127.0.0.1"


class StackError(RuntimeError):
    """Something in the stack did not come up or answered unexpectedly."""


def http(
    method: str, url: str, *, expect: tuple[int, ...] = (), **kwargs: Any
) -> requests.Response:
    """One request, redirects not followed; StackError on another status
    than `expect` (when given)."""
    with requests.Session() as session:
        session.trust_env = False  # 127.0.0.1 only: no proxies from the environment
        answer = session.request(method, url, allow_redirects=False, timeout=30, **kwargs)
    if expect and answer.status_code not in expect:
        raise StackError(
            f"{method} {url}: HTTP {answer.status_code} (wanted {expect}): {answer.text[:500]}"
        )
    return answer


def wait_until[T](
    what: str, check: Callable[[], T | None], timeout: float = 60, interval: float = 0.25
) -> T:
    """Call `check()` until it returns something truthy; StackError after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except (OSError, requests.RequestException, StackError, ValueError, KeyError) as err:
            last_error = err
        time.sleep(interval)
    raise StackError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last_error})")


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOCALHOST, port)) == 0


# --- Smartcar Connect's consent page (also read by the in-process tests' flow_helpers) --------

_INPUT = re.compile(r"<input[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def consent_form(
    authorize_url: str, page: str, action: str = "approve"
) -> tuple[str, dict[str, str]]:
    """What a browser posts when the Approve (or Deny) button is pressed: the URL, the fields."""
    if 'id="approve"' not in page:
        raise StackError(f"no Approve button on the consent page: {page[:300]}")
    fields: dict[str, str] = {}
    for tag in _INPUT.findall(page):
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(tag)}
        if attrs.get("type", "").lower() == "hidden" and "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    return authorize_url.split("?", 1)[0], {**fields, "action": action}


def approve_consent(authorize_url: str, action: str = "approve") -> str:
    """Open the consent page, press Approve (or Deny); where Connect redirects to."""
    page = http("GET", authorize_url, expect=(200,)).text
    target, fields = consent_form(authorize_url, page, action)
    return str(http("POST", target, data=fields, expect=(302, 303)).headers["Location"])


# --- the simulator's webhook -----------------------------------------------------------------


def verify_sim_webhook(
    sim_url: str, callback_url: str, webhook_id: str, timeout: float = 60
) -> dict[str, Any]:
    """Point the simulator's webhook at `callback_url` and have it send VERIFY until the
    answer is right (Home Assistant may still be reloading the entry); the verification."""
    http("POST", f"{sim_url}/sim/webhooks/{webhook_id}", json={"url": callback_url}, expect=(200,))
    last: dict[str, Any] = {}

    def verified() -> dict[str, Any] | None:
        nonlocal last
        last = http("POST", f"{sim_url}/sim/webhooks/{webhook_id}/verify", expect=(200,)).json()
        return last if last.get("verified") else None

    try:
        return wait_until("the simulator's webhook to verify", verified, timeout, interval=1)
    except StackError as err:
        raise StackError(f"{err}; the last VERIFY: {last}") from err


# --- processes --------------------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the child gets SIGTERM when the process that started it dies."""
    with contextlib.suppress(Exception):
        import ctypes  # noqa: PLC0415

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Process:
    """A child in its own session (Ctrl-C reaches only us), its output appended to a log file.
    `start` waits until `ready()` answers True; `stop` and `start` again restart it."""

    name = "process"

    def __init__(self, argv: list[str], log_path: Path, url: str) -> None:
        """Start it and wait until it is ready."""
        self.argv = argv
        self.log_path = log_path
        self.url = url
        self.start()

    def start(self) -> None:
        """Start it and wait until it is ready (stopped again if it does not come up)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n==== {time.strftime('%H:%M:%S')} {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
            )
        try:
            wait_until(f"{self.name} to answer", self._ready, timeout=90)
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        self.check_alive()
        return self.ready()

    def ready(self) -> bool:
        """Whether it answers (each kind of process says how)."""
        raise NotImplementedError

    def log_tail(self, lines: int = 40) -> str:
        """The end of its output."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def check_alive(self) -> None:
        """StackError with its last output when it has exited."""
        if self.popen.poll() is not None:
            raise StackError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM, wait; SIGKILL the whole session if it does not go. Returns the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # anything it left in its session
        return self.popen.returncode


class SimulatorProcess(Process):
    """`python -m smartcar_simulator` on 127.0.0.1:port."""

    name = "the simulator"

    def __init__(
        self, port: int, state_file: Path, log_path: Path, args: tuple[str, ...] = ()
    ) -> None:
        """Start it and wait until it answers."""
        argv = [str(VENV_BIN / "python"), "-m", "smartcar_simulator", "--host", LOCALHOST]
        argv += ["--port", str(port), "--state-file", str(state_file), *args]
        super().__init__(argv, log_path, f"http://{LOCALHOST}:{port}")

    def ready(self) -> bool:
        """Its control endpoints answer."""
        return bool(http("GET", f"{self.url}/sim/clock").ok)


class HassProcess(Process):
    """`hass -c <config dir>` (the address comes from the config dir, see prepare_config_dir)."""

    name = "Home Assistant"

    def __init__(self, config_dir: Path, port: int, log_path: Path) -> None:
        """Start it and wait until its HTTP server answers."""
        self.config_dir = config_dir
        self.port = port
        argv = [str(VENV_BIN / "hass"), "-c", str(config_dir), "--log-no-color"]
        super().__init__(argv, log_path, f"http://{LOCALHOST}:{port}")

    def ready(self) -> bool:
        """The frontend's manifest is served."""
        return bool(http("GET", f"{self.url}/manifest.json").ok)


# --- the config directory -----------------------------------------------------------------------


# No default_config: only what the UI needs, so that Home Assistant boots fast and offline.
CONFIGURATION_YAML = """\
# Written by scripts/devstack.py on every start. Where Home Assistant listens is in
# .storage/http, its location is set over the websocket (scripts/hass_client.py).
frontend:
config:
{}
logger:
  default: warning
  logs:
    custom_components.smartcar: debug
    homeassistant.setup: info

smartcar:
{}
"""


# Components whose UI editor writes a file of their own (automations, scripts): `extras` that
# include them get it, as Home Assistant's default configuration.yaml does.
UI_EDITED = {"automation": "automations.yaml", "script": "scripts.yaml"}


def endpoints(sim_url: str) -> dict[str, str]:
    """The integration's `smartcar:` block of configuration.yaml for a simulator."""
    return {
        "connect_url": f"{sim_url}/oauth/authorize",
        "token_url": f"{sim_url}/oauth/token",
        "api_url": f"{sim_url}/v2.0",
        "management_url": f"{sim_url}/v3",
        "iam_url": f"{sim_url}/oauth2/token",
        "vehicle_api_url": f"{sim_url}/v3",
    }


def prepare_config_dir(
    config_dir: Path, port: int, sim_url: str, extras: tuple[str, ...] = ()
) -> None:
    """configuration.yaml, the two files no API can write first, custom_components/smartcar."""
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    smartcar = "\n".join(f"  {key}: {value}" for key, value in endpoints(sim_url).items())
    extra = ""
    for name in extras:
        if (included := UI_EDITED.get(name)) is not None:
            # What the UI's editors save goes to its own file, as in a default installation.
            if not (config_dir / included).exists():
                (config_dir / included).write_text("[]\n" if name == "automation" else "{}\n")
            extra += f"{name}: !include {included}\n"
        else:
            extra += f"{name}:\n"
    (config_dir / "configuration.yaml").write_text(CONFIGURATION_YAML.format(extra, smartcar))
    # Where to listen must be known before Home Assistant starts: an `http:` YAML block is only a
    # trial that reverts (and exits) after 5 minutes unless promoted, and the websocket's
    # http/config/configure needs a server already listening. So the address goes in as the
    # storage format Home Assistant itself migrates (version 1, the YAML keys; it fills in the
    # rest), rewritten on every start so that --port can change.
    http_config = {"server_port": port, "server_host": [LOCALHOST]}
    (storage / "http").write_text(json.dumps({"version": 1, "key": "http", "data": http_config}))
    onboarding = storage / "onboarding"
    if not onboarding.exists():
        # Posting onboarding's core_config step also adds met, radio_browser, google_translate and
        # shopping_list, which want the internet: offline it doubled the start (8 → 16 s) and
        # removing radio_browser again waited 7 s for its setup. The location it would confirm
        # is set over the websocket instead (CORE_CONFIG), and only that step is marked done.
        onboarding.write_text(
            json.dumps({"version": 4, "key": "onboarding", "data": {"done": ["core_config"]}})
        )
    link = config_dir / "custom_components" / DOMAIN
    link.parent.mkdir(exist_ok=True)
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    link.symlink_to(ROOT / "custom_components" / DOMAIN, target_is_directory=True)
