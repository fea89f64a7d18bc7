"""Home Assistant's own APIs as its owner: onboarding, REST, websocket, the Smartcar OAuth flow.

What `scripts/develop` and the end-to-end tests (tests/e2e) do to a running Home Assistant, as its
frontend would; synchronous, like scripts/devstack.py.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Self

from requests import Response

from scripts.devstack import (
    DOMAIN,
    ROOT,
    StackError,
    approve_consent,
    http,
    verify_sim_webhook,
    wait_until,
)
from smartcar_simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from smartcar_simulator.v3 import (
    DEFAULT_APPLICATION_ID,
    DEFAULT_V3_CLIENT_ID,
    DEFAULT_V3_CLIENT_SECRET,
)

# The simulator's applications: API version -> (client id, client secret). The version follows
# from the credentials (v3 ones are what Smartcar's v3 token endpoint accepts).
APPLICATIONS = {
    "2": (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    "3": (DEFAULT_V3_CLIENT_ID, DEFAULT_V3_CLIENT_SECRET),
}
# Where Smartcar Connect sends the user back: Home Assistant's OAuth callback (v2.0), the
# integration's own view (v3, which answers with a user id and no token).
CALLBACKS = {"2": "/auth/external/callback", "3": "/api/smartcar/connect"}
# The entry option that turns webhooks on, and where its options form shows the webhook's URL.
MANAGEMENT_TOKEN = "management_token"
_WEBHOOK_PATH = re.compile(r"/api/webhook/([A-Za-z0-9_-]+)")

# The project's automation blueprints (blueprints/automation/smartcar/<name>.yaml), where a user
# imports them from.
BLUEPRINTS = ROOT / "blueprints" / "automation" / DOMAIN
BLUEPRINT_SOURCE = "https://github.com/smartcar-ha/smartcar-home-assistant/blob/main/" + (
    f"blueprints/automation/{DOMAIN}"
)
# The demo's own use of the voice blueprint: one automation answers for every car.
VOICE_BLUEPRINT = "voice_sentences.yaml"
VOICE_AUTOMATION = "smartcar_voice_sentences"

# Set over the websocket (config/core/update) when the owner is created, as onboarding does.
CORE_CONFIG = {
    "location_name": "Smartcar demo",
    "latitude": 52.3731,
    "longitude": 4.8922,
    "elevation": 0,
    "unit_system": "metric",
    "time_zone": "Europe/Amsterdam",
    "country": "NL",
    "currency": "EUR",
    "language": "en",
}


def _token(url: str, code: str) -> str:
    form = {"grant_type": "authorization_code", "code": code, "client_id": f"{url}/"}
    return str(http("POST", f"{url}/auth/token", data=form, expect=(200,)).json()["access_token"])


def login(url: str, username: str, password: str) -> str:
    """Log in with the local owner account as the frontend does; an access token."""
    client = {"client_id": f"{url}/"}
    body = {**client, "handler": ["homeassistant", None], "redirect_uri": f"{url}/?auth_callback=1"}
    flow = http("POST", f"{url}/auth/login_flow", json=body, expect=(200,)).json()
    credentials = {**client, "username": username, "password": password}
    result = http(
        "POST", f"{url}/auth/login_flow/{flow['flow_id']}", json=credentials, expect=(200,)
    ).json()
    if result.get("type") != "create_entry":
        raise StackError(f"login refused: {result}")
    return _token(url, result["result"])


class HassClient:
    """Home Assistant's REST and websocket APIs as its owner."""

    def __init__(self, url: str, token: str) -> None:
        """A client for the Home Assistant at `url`."""
        self.url = url
        self.token = token

    @classmethod
    def onboard(cls, url: str, username: str, password: str) -> Self:
        """Finish onboarding as the frontend does (the owner, its location, analytics, the
        integrations step); log in on later starts."""
        client_id = f"{url}/"
        answer = http("GET", f"{url}/api/onboarding")  # 404 once onboarded
        steps = {s["step"]: s["done"] for s in answer.json()} if answer.ok else {}
        if steps.get("user", True):
            client = cls(url, login(url, username, password))
        else:
            owner = {"client_id": client_id, "name": "Developer", "language": "en"}
            owner |= {"username": username, "password": password}
            answer = http("POST", f"{url}/api/onboarding/users", json=owner, expect=(200,))
            client = cls(url, _token(url, answer.json()["auth_code"]))
            client.ws_result({"type": "config/core/update", **CORE_CONFIG})
        redirect = {"client_id": client_id, "redirect_uri": f"{url}/?auth_callback=1"}
        for step, data in {"analytics": {}, "integration": redirect}.items():
            if not steps.get(step, True):
                client.post(f"/api/onboarding/{step}", data)
        return client

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Response:
        """Any REST call as the owner; the response whatever its status."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return http(method, f"{self.url}{path}", json=body, headers=headers, **kwargs)

    def get(self, path: str) -> Any:
        """GET, expecting 200; the JSON."""
        return self.request("GET", path, expect=(200,)).json()

    def post(self, path: str, body: Any = None) -> Any:
        """POST, expecting 200/201; the JSON. Sends the header the frontend sends, which OAuth
        flows need to build their redirect URI."""
        headers = {"HA-Frontend-Base": self.url}
        return self.request("POST", path, body or {}, headers=headers, expect=(200, 201)).json()

    def wait_running(self, timeout: float = 90) -> None:
        """Wait until Home Assistant has started."""
        wait_until(
            "Home Assistant to run", lambda: self.get("/api/config")["state"] == "RUNNING", timeout
        )

    def template(self, template: str) -> str:
        """Render a template (e.g. `{{ device_id('lock.x') }}`)."""
        return str(
            self.request("POST", "/api/template", {"template": template}, expect=(200,)).text
        )

    def entries(self) -> list[dict[str, Any]]:
        """The Smartcar config entries."""
        return list(self.get(f"/api/config/config_entries/entry?domain={DOMAIN}"))

    def wait_entry_state(self, state: str, timeout: float = 60) -> dict[str, Any]:
        """Wait until the (only) Smartcar entry is in this state; the entry."""

        def check() -> dict[str, Any] | None:
            entries = self.entries()
            return entries[0] if entries and entries[0]["state"] == state else None

        return wait_until(f"the Smartcar entry to be {state}", check, timeout=timeout)

    def ws_result(self, command: dict[str, Any]) -> Any:
        """One websocket command that must succeed; its result."""
        import aiohttp  # noqa: PLC0415  (only the websocket needs it)

        async def run() -> dict[str, Any]:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(f"{self.url}/api/websocket") as ws,
            ):
                await ws.receive_json()  # auth_required
                await ws.send_json({"type": "auth", "access_token": self.token})
                if (hello := await ws.receive_json()).get("type") != "auth_ok":
                    raise StackError(f"websocket authentication failed: {hello}")
                await ws.send_json({"id": 1, **command})
                while (message := await ws.receive_json()).get("type") != "result":
                    pass
                return dict(message)

        # A private loop: works from plain code and from sync tests under the HA harness.
        loop = asyncio.new_event_loop()
        try:
            message = loop.run_until_complete(asyncio.wait_for(run(), 30))
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
        if not message.get("success"):
            raise StackError(f"{command['type']} failed: {message.get('error')}")
        return message.get("result")

    def ensure_credentials(self, api: str = "2") -> bool:
        """Store the simulator's application credentials (of the v2.0 or the v3 application)
        unless Smartcar credentials are there; True if new. StackError when the stored ones
        are the other application's."""
        client_id, client_secret = APPLICATIONS[api]
        stored = self.ws_result({"type": "application_credentials/list"})
        mine = [item for item in stored if item["domain"] == DOMAIN]
        if any(item["client_id"] == client_id for item in mine):
            return False
        if mine:
            raise StackError(
                f"Home Assistant holds other Smartcar credentials ({mine[0]['client_id']}), "
                f"not the API v{api} application's"
            )
        create = {"type": "application_credentials/create", "domain": DOMAIN}
        create |= {"client_id": client_id, "client_secret": client_secret}
        self.ws_result({**create, "name": f"Smartcar simulator (API v{api})"})
        return True

    def finish_oauth(
        self, result: dict[str, Any], action: str = "approve", api: str = "2"
    ) -> dict[str, Any]:
        """From a flow's external step: consent at Connect, follow the redirect home (Home
        Assistant's OAuth callback, or for v3 the integration's), continue the flow."""
        if result.get("type") != "external":
            raise StackError(f"expected the external (Smartcar Connect) step, got {result}")
        callback = approve_consent(result["url"], action)
        if not callback.startswith(f"{self.url}{CALLBACKS[api]}?"):
            raise StackError(f"Connect redirected to {callback}, not to Home Assistant")
        http("GET", callback, expect=(200,))
        return dict(self.post(f"/api/config/config_entries/flow/{result['flow_id']}"))

    def connect(self, mode: str = "simulated", api: str = "2") -> dict[str, Any]:
        """Add the Smartcar account through the real flow; the flow's last result.

        v2.0: the mode, then OAuth through Connect. v3 (the stored credentials are the v3
        application's): the mode, the Application ID, then Connect, which answers with a user id.
        """
        result = self.post(
            "/api/config/config_entries/flow", {"handler": DOMAIN, "show_advanced_options": False}
        )
        if result.get("type") != "form" or result.get("step_id") != "user":
            raise StackError(f"unexpected first step: {result}")
        flow = f"/api/config/config_entries/flow/{result['flow_id']}"
        result = self.post(flow, {"mode": mode})
        if api == "3":
            if result.get("type") != "form" or result.get("step_id") != "application_id":
                raise StackError(f"expected the Application ID form, got {result}")
            result = self.post(flow, {"application_id": DEFAULT_APPLICATION_ID})
        result = self.finish_oauth(result, api=api)
        if result.get("type") != "create_entry":
            raise StackError(f"the flow did not create an entry: {result}")
        return result

    # --- Assist and blueprints ----------------------------------------------------------------

    def expose_to_assist(self) -> list[str]:
        """Expose the Smartcar entities a user talks about to Assist, as Settings → Voice
        assistants → Expose does: enabled, visible, neither diagnostic nor configuration ones.
        The entity ids."""
        registry = self.ws_result({"type": "config/entity_registry/list"})
        useful = sorted(
            e["entity_id"]
            for e in registry
            if e["platform"] == DOMAIN
            and e["entity_category"] is None
            and e["disabled_by"] is None
            and e["hidden_by"] is None
        )
        if useful:
            command = {"type": "homeassistant/expose_entity", "assistants": ["conversation"]}
            self.ws_result({**command, "entity_ids": useful, "should_expose": True})
        return useful

    def import_blueprint(self, name: str) -> str:
        """Import one of the project's automation blueprints as the UI's import dialog saves it
        (Home Assistant validates it); its path for `use_blueprint`."""
        path = f"{DOMAIN}/{name}"
        command: dict[str, Any] = {"type": "blueprint/save", "domain": "automation"}
        command |= {"path": path, "yaml": (BLUEPRINTS / name).read_text(), "allow_override": True}
        self.ws_result({**command, "source_url": f"{BLUEPRINT_SOURCE}/{name}"})
        return path

    def save_automation(self, automation_id: str, config: dict[str, Any]) -> str:
        """Create or replace an automation as the automation editor saves it, and wait until it
        runs; its entity id."""
        self.post(f"/api/config/automation/config/{automation_id}", {"id": automation_id, **config})

        def running() -> str | None:
            for state in self.get("/api/states"):
                attributes = state["attributes"]
                if state["entity_id"].startswith("automation.") and (
                    attributes.get("id") == automation_id
                ):
                    return str(state["entity_id"]) if state["state"] == "on" else None
            return None

        return wait_until(f"automation {automation_id} to run", running, timeout=30)

    def add_voice_sentences(self) -> str:
        """The voice blueprint, imported and used once for every car; the automation."""
        path = self.import_blueprint(VOICE_BLUEPRINT)
        config = {"alias": "Smartcar voice sentences", "description": ""}
        return self.save_automation(
            VOICE_AUTOMATION, {**config, "use_blueprint": {"path": path, "input": {}}}
        )

    def setup_voice(self) -> tuple[list[str], str]:
        """What the demo does for Assist: expose the cars' useful entities and add the voice
        blueprint's sentences. The exposed entity ids and the automation."""
        return self.expose_to_assist(), self.add_voice_sentences()

    def converse(self, text: str, language: str = "en") -> dict[str, Any]:
        """Ask Assist (Home Assistant's default conversation agent); its response."""
        answer = self.post("/api/conversation/process", {"text": text, "language": language})
        return dict(answer["response"])

    # --- webhooks -------------------------------------------------------------------------------

    def options_form(self, entry_id: str) -> dict[str, Any]:
        """Open an entry's options form (Settings → the entry → Configure); the form."""
        form = dict(self.post("/api/config/config_entries/options/flow", {"handler": entry_id}))
        if form.get("type") != "form":
            raise StackError(f"expected the options form, got {form}")
        return form

    def webhook_url(self, entry_id: str) -> str:
        """The entry's webhook on this Home Assistant's address (the options form shows its
        URL, whose host is what Home Assistant thinks it is reached at; its path is the id)."""
        form = self.options_form(entry_id)
        self._abort_options(form)
        return self._local_webhook_url(form)

    def set_management_token(self, entry_id: str, token: str | None) -> str:
        """Set (None: remove) the entry's application management token through its options
        form, the other options kept; the entry's webhook URL on this Home Assistant. A change
        reloads the entry (begun when the form answers): this waits until it is loaded again."""
        form = self.options_form(entry_id)
        url = self._local_webhook_url(form)
        values = _form_values(form)
        current = values.pop(MANAGEMENT_TOKEN, None) or None
        if current == token:
            self._abort_options(form)
            return url
        if token:
            values[MANAGEMENT_TOKEN] = token
        result = self.post(f"/api/config/config_entries/options/flow/{form['flow_id']}", values)
        if result.get("type") != "create_entry":
            raise StackError(f"the options form refused the token: {result}")

        def reloaded() -> bool:
            entries = {e["entry_id"]: e for e in self.entries()}
            return bool(entries[entry_id]["state"] == "loaded")

        wait_until("the Smartcar entry to reload", reloaded, timeout=60)
        return url

    def connect_webhook(
        self, entry_id: str, sim_url: str, token: str, webhook_id: str
    ) -> tuple[str, dict[str, Any]]:
        """Webhooks from the simulator: the entry gets the management token, the simulator's
        webhook points at the entry's, and VERIFY succeeds (sent again while the entry
        reloads). The URL and the simulator's verification."""
        url = self.set_management_token(entry_id, token)
        return url, verify_sim_webhook(sim_url, url, webhook_id)

    def _local_webhook_url(self, form: dict[str, Any]) -> str:
        shown = str((form.get("description_placeholders") or {}).get("webhook_url") or "")
        if not (match := _WEBHOOK_PATH.search(shown)):
            raise StackError(f"the options form shows no webhook URL: {shown!r}")
        return f"{self.url}/api/webhook/{match.group(1)}"

    def _abort_options(self, form: dict[str, Any]) -> None:
        path = f"/api/config/config_entries/options/flow/{form['flow_id']}"
        self.request("DELETE", path, expect=(200,))


def _form_values(form: dict[str, Any]) -> dict[str, Any]:
    """What the frontend submits unchanged: each field's suggested value, else its default."""
    values: dict[str, Any] = {}
    for field in form.get("data_schema") or []:
        suggested = (field.get("description") or {}).get("suggested_value")
        if suggested is not None:
            values[field["name"]] = suggested
        elif "default" in field:
            values[field["name"]] = field["default"]
    return values
