"""A real Home Assistant with the Smartcar integration against the Smartcar simulator.

Used by `scripts/develop` (run as a program) and by the end-to-end tests in tests/e2e
(imported). Only the standard library plus aiohttp (for the websocket), so it works inside
pytest-homeassistant-custom-component's harness: HTTP goes through urllib on 127.0.0.1, the
processes are plain subprocesses with their output in log files (no reader threads).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass, field
import html
import json
import os
from pathlib import Path
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any
import urllib.error
from urllib.parse import urlencode
import urllib.request

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
DOMAIN = "smartcar"
CLIENT_ID = "sim-client-id"
CLIENT_SECRET = "sim-client-secret"
SIM_USER_ID = "7d2a7c2e-5b1e-4a39-9c0c-2b4f0e1d5a11"
LOCALHOST = "127.0.0.1"


class StackError(RuntimeError):
    """Something in the stack did not come up or answered unexpectedly."""


# --- HTTP ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Response:
    """An HTTP answer (any status; never raised)."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 30,
) -> Response:
    """One request; redirects are not followed (the Location header tells where)."""
    data = None
    all_headers = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        all_headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return Response(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as err:
        with err:
            return Response(err.code, dict(err.headers.items()), err.read())


def expect(response: Response, *statuses: int) -> Response:
    """The response, or a StackError saying what came instead."""
    if response.status not in statuses:
        raise StackError(f"HTTP {response.status} (wanted {statuses}): {response.text[:500]}")
    return response


def wait_until(what: str, check: Any, timeout: float = 60, interval: float = 0.25) -> Any:
    """Call `check()` until it returns something truthy; StackError after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except (OSError, StackError, ValueError, KeyError) as err:
            last_error = err
        time.sleep(interval)
    raise StackError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last_error})")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOCALHOST, port)) == 0


# --- processes ----------------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the child gets SIGTERM when the process that started it dies."""
    with contextlib.suppress(Exception):
        import ctypes  # noqa: PLC0415

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Process:
    """A child process in its own session (Ctrl-C reaches only us), output in a log file."""

    def __init__(self, name: str, argv: list[str], log_path: Path, *, cwd: Path = ROOT) -> None:
        """Start it."""
        self.name = name
        self.argv = argv
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("ab")
        self._log.write(f"\n==== {time.strftime('%H:%M:%S')} {' '.join(argv)}\n".encode())
        self._log.flush()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )

    @property
    def alive(self) -> bool:
        """Still running."""
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The end of its output."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        """StackError with its last output when it has exited."""
        if not self.alive:
            raise StackError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM, wait; SIGKILL the whole session if it does not go. Returns the exit code."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        # Anything it started in its session goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        if not self._log.closed:
            self._log.close()
        return self.popen.returncode


# --- the simulator ------------------------------------------------------------------------


class SimulatorProcess(Process):
    """`python -m smartcar_simulator` on 127.0.0.1."""

    def __init__(
        self, port: int, state_file: Path, log_path: Path, extra_args: list[str] | None = None
    ) -> None:
        """Start it and wait until it answers."""
        self.port = port
        self.url = f"http://{LOCALHOST}:{port}"
        argv = [
            str(VENV_BIN / "python"),
            "-m",
            "smartcar_simulator",
            "--host",
            LOCALHOST,
            "--port",
            str(port),
            "--state-file",
            str(state_file),
            *(extra_args or []),
        ]
        super().__init__("simulator", argv, log_path)
        wait_until("the simulator", self._ready, timeout=30)

    def _ready(self) -> bool:
        self.check_alive()
        return http("GET", f"{self.url}/sim/clock", timeout=2).status == 200

    def get(self, path: str) -> Any:
        """GET a /sim control endpoint; the JSON."""
        return expect(http("GET", f"{self.url}{path}"), 200).json()

    def post(self, path: str, body: Any = None) -> Any:
        """POST to a /sim control endpoint; the JSON."""
        return expect(http("POST", f"{self.url}{path}", json_body=body or {}), 200, 201).json()

    def counters(self) -> dict[str, Any]:
        """Billed, HTTP and token request counters."""
        return dict(self.get("/sim/counters"))

    def vehicle(self, vehicle_id: str) -> dict[str, Any]:
        """The truth about one vehicle."""
        return dict(self.get(f"/sim/vehicles/{vehicle_id}"))

    @property
    def endpoints(self) -> dict[str, str]:
        """The `smartcar:` block of configuration.yaml for this simulator."""
        return {
            "connect_url": f"{self.url}/oauth/authorize",
            "token_url": f"{self.url}/oauth/token",
            "api_url": f"{self.url}/v2.0",
            "management_url": f"{self.url}/v3",
        }


_INPUT = re.compile(r"<input[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def approve_consent(authorize_url: str, action: str = "approve") -> str:
    """Open Smartcar Connect's consent page, press Approve (or Deny); the redirect URL."""
    page = expect(http("GET", authorize_url), 200).text
    if 'id="approve"' not in page:
        raise StackError(f"no Approve button on the consent page: {page[:300]}")
    fields: dict[str, str] = {}
    for tag in _INPUT.findall(page):
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(tag)}
        if attrs.get("type", "").lower() == "hidden" and "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    fields["action"] = action
    answer = expect(http("POST", authorize_url.split("?", 1)[0], form=fields), 302, 303)
    return answer.headers["Location"]


# --- Home Assistant -----------------------------------------------------------------------


def configuration_yaml(sim: SimulatorProcess, *, extras: tuple[str, ...] = ()) -> str:
    """A small offline-safe configuration: the UI, Settings, the integration's overrides."""
    endpoints = "\n".join(f"  {key}: {value}" for key, value in sim.endpoints.items())
    extra = "".join(f"{name}:\n" for name in extras)
    return f"""\
# Written by scripts/_hass_dev.py (rewritten on every start). No default_config: only what a
# usable UI needs, so that Home Assistant boots fast and without internet.
homeassistant:
  name: Smartcar demo
  latitude: 52.3731
  longitude: 4.8922
  elevation: 0
  unit_system: metric
  time_zone: Europe/Amsterdam
  country: NL
  currency: EUR
  language: en

frontend:
config:
{extra}
logger:
  default: warning
  logs:
    custom_components.smartcar: debug
    homeassistant.setup: info

smartcar:
{endpoints}
"""


def http_storage(port: int) -> dict[str, Any]:
    """A confirmed `.storage/http`: 127.0.0.1:port, no pending YAML trial (see the notes)."""
    return {
        "version": 2,
        "minor_version": 2,
        "key": "http",
        "data": {
            "stable": {
                "server_port": port,
                "server_host": [LOCALHOST],
                "cors_allowed_origins": ["https://cast.home-assistant.io"],
                "login_attempts_threshold": -1,
                "ip_ban_enabled": True,
                "ssl_profile": "modern",
                "use_x_frame_options": True,
                "created_at": "2026-01-01T00:00:00+00:00",
                "error": None,
                "error_message": None,
            },
            "pending": None,
            "yaml_migration_done": True,
        },
    }


def prepare_config_dir(
    config_dir: Path, port: int, sim: SimulatorProcess, *, extras: tuple[str, ...] = ()
) -> None:
    """configuration.yaml, the HTTP settings and custom_components/smartcar (a symlink)."""
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(configuration_yaml(sim, extras=extras))
    http_file = storage / "http"
    stored: dict[str, Any] | None = None
    if http_file.exists():
        with contextlib.suppress(ValueError):
            stored = json.loads(http_file.read_text())
    if stored is None or stored.get("data", {}).get("pending") is not None:
        stored = http_storage(port)
    stored["data"]["stable"]["server_port"] = port
    stored["data"]["stable"]["server_host"] = [LOCALHOST]
    http_file.write_text(json.dumps(stored, indent=2))
    onboarding = storage / "onboarding"
    if not onboarding.exists():
        # The core_config step of onboarding sets up met, radio_browser, shopping_list and
        # google_translate, which want the internet (met retries forever, startup and
        # shutdown wait for them). The location is in configuration.yaml anyway, so that one
        # step is marked done beforehand; the owner account, analytics and integration steps
        # go over HTTP as the frontend does them.
        onboarding.write_text(
            json.dumps(
                {
                    "version": 4,
                    "minor_version": 1,
                    "key": "onboarding",
                    "data": {"done": ["core_config"]},
                }
            )
        )
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / DOMAIN
    target = ROOT / "custom_components" / DOMAIN
    if link.is_symlink() or link.exists():
        if link.is_symlink() and link.resolve() == target.resolve():
            return
        if link.is_symlink() or link.is_file():
            link.unlink()
        else:
            shutil.rmtree(link)
    link.symlink_to(target, target_is_directory=True)


class HassProcess(Process):
    """`hass -c <config dir>` on 127.0.0.1:port (the port comes from .storage/http)."""

    def __init__(self, config_dir: Path, port: int, log_path: Path) -> None:
        """Start it and wait until its HTTP server answers."""
        self.config_dir = config_dir
        self.port = port
        self.url = f"http://{LOCALHOST}:{port}"
        argv = [str(VENV_BIN / "hass"), "-c", str(config_dir), "--log-no-color"]
        self.started = time.monotonic()
        super().__init__("Home Assistant", argv, log_path)
        wait_until("Home Assistant's HTTP server", self._http_up, timeout=90)

    def _http_up(self) -> bool:
        self.check_alive()
        return http("GET", f"{self.url}/manifest.json", timeout=2).status == 200


@dataclass(slots=True)
class Tokens:
    """A Home Assistant login."""

    access_token: str
    refresh_token: str
    client_id: str


def _exchange_code(url: str, code: str, client_id: str) -> Tokens:
    answer = expect(
        http(
            "POST",
            f"{url}/auth/token",
            form={"grant_type": "authorization_code", "code": code, "client_id": client_id},
        ),
        200,
    ).json()
    return Tokens(answer["access_token"], answer["refresh_token"], client_id)


def login(url: str, username: str, password: str) -> Tokens:
    """Log in with the local owner account (the login flow the frontend uses)."""
    client_id = f"{url}/"
    flow = expect(
        http(
            "POST",
            f"{url}/auth/login_flow",
            json_body={
                "client_id": client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{url}/?auth_callback=1",
            },
        ),
        200,
    ).json()
    result = expect(
        http(
            "POST",
            f"{url}/auth/login_flow/{flow['flow_id']}",
            json_body={"username": username, "password": password, "client_id": client_id},
        ),
        200,
    ).json()
    if result.get("type") != "create_entry":
        raise StackError(f"login refused: {result}")
    return _exchange_code(url, result["result"], client_id)


def onboard(url: str, username: str, password: str, name: str = "Developer") -> Tokens:
    """Finish onboarding (owner account, location, analytics, integrations); log in."""
    client_id = f"{url}/"
    answer = http("GET", f"{url}/api/onboarding")
    steps = {s["step"]: s["done"] for s in answer.json()} if answer.status == 200 else {}
    if steps and not steps.get("user", True):
        created = expect(
            http(
                "POST",
                f"{url}/api/onboarding/users",
                json_body={
                    "client_id": client_id,
                    "name": name,
                    "username": username,
                    "password": password,
                    "language": "en",
                },
            ),
            200,
        ).json()
        tokens = _exchange_code(url, created["auth_code"], client_id)
    else:
        tokens = login(url, username, password)
    bodies: dict[str, dict[str, str]] = {
        "core_config": {},
        "analytics": {},
        "integration": {"client_id": client_id, "redirect_uri": f"{url}/?auth_callback=1"},
    }
    for step, body in bodies.items():
        if steps and not steps.get(step, True):
            expect(
                http(
                    "POST",
                    f"{url}/api/onboarding/{step}",
                    json_body=body,
                    token=tokens.access_token,
                ),
                200,
            )
    return tokens


@dataclass(slots=True)
class HassClient:
    """Home Assistant's REST and websocket APIs as an admin."""

    url: str
    tokens: Tokens
    frontend_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """The frontend sends this header; OAuth flows need it to build the redirect URI."""
        self.frontend_headers = {"HA-Frontend-Base": self.url}

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Response:
        """Any REST call."""
        return http(
            method,
            f"{self.url}{path}",
            json_body=body,
            token=self.tokens.access_token,
            **kwargs,
        )

    def get(self, path: str) -> Any:
        """GET, expecting 200; the JSON."""
        return expect(self.request("GET", path), 200).json()

    def post(self, path: str, body: Any = None, *, frontend: bool = False) -> Any:
        """POST, expecting 200/201; the JSON."""
        headers = self.frontend_headers if frontend else None
        return expect(self.request("POST", path, body or {}, headers=headers), 200, 201).json()

    def state_of_core(self) -> str:
        """Home Assistant's run state (RUNNING when started)."""
        return str(self.get("/api/config")["state"])

    def wait_running(self, timeout: float = 90) -> None:
        """Wait until Home Assistant has started."""
        wait_until(
            "Home Assistant to run", lambda: self.state_of_core() == "RUNNING", timeout=timeout
        )

    def states(self) -> dict[str, dict[str, Any]]:
        """Every state, by entity id."""
        return {s["entity_id"]: s for s in self.get("/api/states")}

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """One state, or None when there is no such entity."""
        answer = self.request("GET", f"/api/states/{entity_id}")
        return None if answer.status == 404 else expect(answer, 200).json()

    def call_service(self, domain: str, service: str, data: dict[str, Any]) -> Response:
        """Call an action over REST (the response is returned whatever its status)."""
        return self.request("POST", f"/api/services/{domain}/{service}", data)

    def template(self, template: str) -> str:
        """Render a template (e.g. `{{ device_id('lock.x') }}`)."""
        return expect(self.request("POST", "/api/template", {"template": template}), 200).text

    def entries(self, domain: str = DOMAIN) -> list[dict[str, Any]]:
        """The config entries of a domain."""
        return list(self.get(f"/api/config/config_entries/entry?domain={domain}"))

    def wait_entry_state(self, state: str, timeout: float = 60) -> dict[str, Any]:
        """Wait until the (only) Smartcar entry is in this state; the entry."""

        def check() -> dict[str, Any] | None:
            entries = self.entries()
            return entries[0] if entries and entries[0]["state"] == state else None

        return dict(wait_until(f"the Smartcar entry to be {state}", check, timeout=timeout))

    # websocket

    def ws(self, *commands: dict[str, Any]) -> list[dict[str, Any]]:
        """Send websocket commands one after the other; their result messages."""
        import aiohttp  # noqa: PLC0415  (only the websocket needs it)

        async def run() -> list[dict[str, Any]]:
            results: list[dict[str, Any]] = []
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(f"{self.url}/api/websocket") as socket_,
            ):
                await socket_.receive_json()  # auth_required
                await socket_.send_json({"type": "auth", "access_token": self.tokens.access_token})
                hello = await socket_.receive_json()
                if hello.get("type") != "auth_ok":
                    raise StackError(f"websocket authentication failed: {hello}")
                for number, command in enumerate(commands, start=1):
                    await socket_.send_json({"id": number, **command})
                    while True:
                        message = await socket_.receive_json()
                        if message.get("id") == number and message.get("type") == "result":
                            results.append(message)
                            break
            return results

        # A private loop: works from plain code and from sync tests under the HA harness.
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(asyncio.wait_for(run(), 30))
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def ws_result(self, command: dict[str, Any]) -> Any:
        """One websocket command that must succeed; its result."""
        (message,) = self.ws(command)
        if not message.get("success"):
            raise StackError(f"{command['type']} failed: {message.get('error')}")
        return message.get("result")

    def ensure_credentials(
        self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET
    ) -> bool:
        """Store the Smartcar application's credentials unless they are there; True if new."""
        existing = self.ws_result({"type": "application_credentials/list"})
        if any(item.get("domain") == DOMAIN for item in existing):
            return False
        self.ws_result(
            {
                "type": "application_credentials/create",
                "domain": DOMAIN,
                "client_id": client_id,
                "client_secret": client_secret,
                "name": "Smartcar simulator",
            }
        )
        return True

    def flows_in_progress(self) -> list[dict[str, Any]]:
        """Config flows in progress (reauthentication ones included)."""
        return list(self.ws_result({"type": "config_entries/flow/progress"}))

    # the OAuth config flow over REST

    def start_flow(self) -> dict[str, Any]:
        """Start adding Smartcar; the first step."""
        return dict(
            self.post(
                "/api/config/config_entries/flow",
                {"handler": DOMAIN, "show_advanced_options": False},
                frontend=True,
            )
        )

    def configure_flow(self, flow_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Answer a step of a config flow."""
        return dict(self.post(f"/api/config/config_entries/flow/{flow_id}", data, frontend=True))

    def finish_oauth(self, result: dict[str, Any], action: str = "approve") -> dict[str, Any]:
        """From the external step: consent at Connect, follow the redirect home, continue."""
        if result.get("type") != "external":
            raise StackError(f"expected the external (Smartcar Connect) step, got {result}")
        callback = approve_consent(result["url"], action)
        if not callback.startswith(f"{self.url}/auth/external/callback"):
            raise StackError(f"Connect redirected to {callback}, not to Home Assistant")
        expect(http("GET", callback), 200)
        return self.configure_flow(result["flow_id"])

    def connect(self, mode: str = "simulated") -> dict[str, Any]:
        """Add the Smartcar account through the real OAuth flow; the flow's last result."""
        result = self.start_flow()
        if result.get("type") != "form" or result.get("step_id") != "user":
            raise StackError(f"unexpected first step: {result}")
        result = self.configure_flow(result["flow_id"], {"mode": mode})
        result = self.finish_oauth(result)
        if result.get("type") != "create_entry":
            raise StackError(f"the flow did not create an entry: {result}")
        return result

    def reauthenticate(self, flow_id: str) -> dict[str, Any]:
        """Complete a reauthentication flow through Connect; the flow's last result."""
        result = dict(self.get(f"/api/config/config_entries/flow/{flow_id}"))
        if result.get("type") == "form":
            result = self.configure_flow(flow_id, {})
        return self.finish_oauth(result)


# --- scripts/develop ----------------------------------------------------------------------

DEV_DIR = ROOT / ".dev"


def _load_credentials(path: Path) -> dict[str, str]:
    if path.exists():
        with contextlib.suppress(ValueError):
            stored = json.loads(path.read_text())
            if stored.get("username") and stored.get("password"):
                return dict(stored)
    credentials = {"username": "dev", "password": secrets.token_urlsafe(12), "name": "Developer"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials, indent=2))
    path.chmod(0o600)
    return credentials


class _Stop(Exception):
    """SIGINT or SIGTERM arrived."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def develop(argv: list[str] | None = None) -> int:
    """`scripts/develop`: simulator + Home Assistant, onboarded and connected; wait."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description="Run the Smartcar simulator and Home Assistant with the integration.",
    )
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant (127.0.0.1)")
    parser.add_argument("--sim-port", type=int, default=8765, help="the simulator (127.0.0.1)")
    parser.add_argument(
        "--no-connect", action="store_true", help="do not add the simulated Smartcar account"
    )
    parser.add_argument("--reset", action="store_true", help="wipe .dev/ and start afresh")
    args = parser.parse_args(argv)

    if args.reset and DEV_DIR.exists():
        shutil.rmtree(DEV_DIR)
        print("wiped .dev/")
    for port, what in ((args.port, "--port"), (args.sim_port, "--sim-port")):
        if port_in_use(port):
            print(f"error: 127.0.0.1:{port} is in use (choose another with {what})")
            return 2
    config_dir = DEV_DIR / "config"
    logs = DEV_DIR / "logs"
    credentials = _load_credentials(DEV_DIR / "credentials.json")

    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    sim: SimulatorProcess | None = None
    hass: HassProcess | None = None
    started = time.monotonic()
    try:
        print(f"starting the Smartcar simulator on 127.0.0.1:{args.sim_port} …", flush=True)
        sim = SimulatorProcess(args.sim_port, DEV_DIR / "simulator.json", logs / "simulator.log")
        prepare_config_dir(config_dir, args.port, sim, extras=("history", "logbook"))
        print(f"starting Home Assistant on 127.0.0.1:{args.port} (config {config_dir}) …")
        hass = HassProcess(config_dir, args.port, logs / "home-assistant.log")
        tokens = onboard(hass.url, credentials["username"], credentials["password"])
        client = HassClient(hass.url, tokens)
        client.wait_running()
        print(f"  onboarded and running ({time.monotonic() - started:.0f} s)")
        if client.ensure_credentials():
            print("stored the Smartcar application credentials (sim-client-id)")
        entries = client.entries()
        if not entries and not args.no_connect:
            print("connecting the simulated Smartcar account (OAuth through Connect) …")
            client.connect("simulated")
            entries = [client.wait_entry_state("loaded")]
        entities = [e for e in client.states() if any(car in e for car in _CARS)]
        print()
        print(f"Home Assistant is ready after {time.monotonic() - started:.0f} s: {hass.url}")
        print(f"  username: {credentials['username']}")
        print(f"  password: {credentials['password']}")
        print(f"  simulator: {sim.url} (control endpoints under {sim.url}/sim/)")
        if entries:
            entry = entries[0]
            print(
                f"  Smartcar entry: {entry['title']} ({entry['state']}), {len(entities)} entities"
            )
        else:
            print("  Smartcar: not connected (Settings → Devices & services → Add integration)")
        print(f"  logs: {logs}/  ·  state: {DEV_DIR}/  ·  Ctrl-C stops both")
        while True:
            hass.check_alive()
            sim.check_alive()
            time.sleep(1)
    except _Stop as stop:
        print(f"\n{stop}: stopping …", flush=True)
        return 0
    except StackError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if hass is not None:
            code = hass.stop()
            print(f"Home Assistant stopped ({code})")
        if sim is not None:
            code = sim.stop()
            print(f"simulator stopped ({code})")


# Entity ids of the simulated cars start with the car's name.
_CARS = ("tesla_model_3", "toyota_rav4_prime", "ford_focus")


if __name__ == "__main__":
    sys.exit(develop())
