"""The metadata files, checked with the schemas Home Assistant, hassfest and HACS apply to them.

Where Home Assistant ships the check, it is used as is: its loader reads manifest.json, the
schema of ``helpers.service`` reads services.yaml, and the blueprints go through its YAML loader,
blueprint models and automation config validation. What runs only in other projects' CI is
mirrored here:

* hassfest (``script/hassfest`` of home-assistant/core, not in the wheel): ``manifest.py``
  (CUSTOM_INTEGRATION_MANIFEST_SCHEMA, key order), ``translations.py`` (gen_strings_schema for a
  custom integration), ``icons.py`` (icon_schema of a hub; icon names checked against the
  installed frontend's MDI list like ``mdi_icons.py``) and ``services.py``
  (CUSTOM_INTEGRATION_SERVICES_SCHEMA and its name and description checks);
* HACS (``custom_components/hacs/utils/validate.py`` of hacs/integration):
  HACS_MANIFEST_JSON_SCHEMA for hacs.json, INTEGRATION_MANIFEST_JSON_SCHEMA for manifest.json.

Every check is shown to reject a broken copy. Whether every language has every key is
tests/components/smartcar/test_translations.py; quality_scale.yaml is test_quality_scale.py.
"""

from __future__ import annotations

from collections.abc import Callable
import copy
import json
from pathlib import Path
import re
import shutil
import string
import types
from typing import Any, get_args

from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy
from homeassistant import loader
from homeassistant.components.automation.config import (
    AUTOMATION_BLUEPRINT_SCHEMA,
    async_validate_config_item as async_validate_automation,
)
from homeassistant.components.blueprint.errors import BlueprintException, InvalidBlueprint
from homeassistant.components.blueprint.models import Blueprint, BlueprintInputs
from homeassistant.components.blueprint.schemas import BLUEPRINT_SCHEMA
from homeassistant.components.script.config import (
    async_validate_config_item as async_validate_script,
)
from homeassistant.const import Platform, __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.generated.countries import COUNTRIES
from homeassistant.helpers import selector, service as service_helper, translation
import homeassistant.helpers.config_validation as cv
from homeassistant.util.yaml import Input, load_yaml_dict, parse_yaml
from packaging.requirements import InvalidRequirement, Requirement
import pytest
import voluptuous as vol  # Home Assistant aliases it to probatio
from voluptuous.humanize import humanize_error

import custom_components
from custom_components.smartcar.services import async_setup_services

ROOT = Path(__file__).parents[2]
INTEGRATION_DIR = ROOT / "custom_components" / "smartcar"
DOMAIN = INTEGRATION_DIR.name
BLUEPRINTS_DIR = ROOT / "blueprints"
HA_DIR = Path(loader.__file__).parent
HA_COMPONENTS = HA_DIR / "components"


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a JSON object"
    return data


def _invalid(schema: Callable[[Any], Any], data: Any) -> str | None:
    """None when `schema` accepts `data`, else the human-readable reason."""
    try:
        schema(data)
    except vol.Invalid as err:
        return humanize_error(data, err)
    return None


def _assert_valid(schema: Callable[[Any], Any], data: Any, name: str) -> None:
    problem = _invalid(schema, data)
    assert problem is None, f"{name}: {problem}"


# --- manifest.json: hassfest's CUSTOM_INTEGRATION_MANIFEST_SCHEMA --------------------------------

# The loader's own list (Manifest.integration_type); hassfest takes all but "virtual" for a
# manifest with code.
INTEGRATION_TYPES = list(get_args(loader.Manifest.__annotations__["integration_type"]))
SUPPORTED_IOT_CLASSES = [
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
]
SUPPORTED_QUALITY_SCALES = [
    "bronze",
    "silver",
    "gold",
    "platinum",
    "custom",
    "no_score",
    "internal",
    "legacy",
]
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
CORE_DOCUMENTATION = "https://www.home-assistant.io/integrations"


def verify_version(value: str) -> str:
    """hassfest's (and the loader's) test of a custom integration's version."""
    try:
        AwesomeVersion(value, ensure_strategy=VERSION_STRATEGIES)
    except AwesomeVersionException as err:
        raise vol.Invalid(f"'{value}' is not a valid version.") from err
    return value


def custom_documentation_url(value: str) -> str:
    """An https page of the custom integration's own, not a core integration's."""
    if not value.startswith("https://"):
        raise vol.Invalid("Documentation url is not prefixed with https")
    if value.startswith(CORE_DOCUMENTATION):
        raise vol.Invalid("Documentation URL should point to the custom integration documentation")
    return value


def lowercase(value: str) -> str:
    if value.lower() != value:
        raise vol.Invalid("Value needs to be lowercase")
    return value


def uppercase(value: str) -> str:
    if value.upper() != value:
        raise vol.Invalid("Value needs to be uppercase")
    return value


def wildcard(value: str) -> str:
    if "*" not in value:
        raise vol.Invalid(f"'{value}' needs to contain a wildcard matcher")
    return value


CUSTOM_INTEGRATION_MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Required("name"): str,
        vol.Optional("integration_type", default="hub"): vol.In(
            [t for t in INTEGRATION_TYPES if t != "virtual"]
        ),
        vol.Optional("config_flow"): bool,
        vol.Optional("mqtt"): [str],
        vol.Optional("zeroconf"): [
            vol.Any(
                str,
                vol.Schema(
                    {
                        vol.Required("type"): str,
                        vol.Optional("macaddress"): vol.All(str, uppercase, wildcard),
                        vol.Optional("manufacturer"): vol.All(str, lowercase),
                        vol.Optional("model"): vol.All(str, lowercase),
                        vol.Optional("name"): vol.All(str, lowercase),
                        vol.Optional("properties"): vol.Schema({str: lowercase}),
                    }
                ),
            )
        ],
        vol.Optional("ssdp"): [vol.All(vol.Schema({}, extra=vol.ALLOW_EXTRA), vol.Length(min=1))],
        vol.Optional("bluetooth"): [
            vol.Schema(
                {
                    vol.Optional("connectable"): bool,
                    vol.Optional("service_uuid"): vol.All(str, lowercase),
                    vol.Optional("service_data_uuid"): vol.All(str, lowercase),
                    vol.Optional("local_name"): str,
                    vol.Optional("manufacturer_id"): int,
                    vol.Optional("manufacturer_data_start"): [int],
                }
            )
        ],
        vol.Optional("homekit"): vol.Schema({vol.Optional("models"): [str]}),
        vol.Optional("dhcp"): [
            vol.Schema(
                {
                    vol.Optional("macaddress"): vol.All(str, uppercase, wildcard),
                    vol.Optional("hostname"): vol.All(str, lowercase),
                    vol.Optional("registered_devices"): cv.boolean,
                }
            )
        ],
        vol.Optional("usb"): [
            vol.Schema(
                {
                    vol.Optional("vid"): vol.All(str, uppercase),
                    vol.Optional("pid"): vol.All(str, uppercase),
                    vol.Optional("serial_number"): vol.All(str, lowercase),
                    vol.Optional("manufacturer"): vol.All(str, lowercase),
                    vol.Optional("description"): vol.All(str, lowercase),
                    vol.Optional("known_devices"): [str],
                }
            )
        ],
        vol.Required("documentation"): vol.All(vol.Url(), custom_documentation_url),
        vol.Optional("issue_tracker"): vol.Url(),
        vol.Optional("quality_scale"): vol.In(SUPPORTED_QUALITY_SCALES),
        vol.Optional("requirements"): [str],
        vol.Optional("dependencies"): [str],
        vol.Optional("after_dependencies"): [str],
        vol.Required("codeowners"): [str],
        vol.Optional("loggers"): [str],
        vol.Optional("disabled"): str,
        vol.Optional("iot_class"): vol.In(SUPPORTED_IOT_CLASSES),
        vol.Optional("single_config_entry"): bool,
        vol.Optional("preview_features"): vol.Schema(
            {
                cv.slug: vol.Schema(
                    {
                        vol.Optional("feedback_url"): vol.Url(),
                        vol.Optional("learn_more_url"): vol.Url(),
                        vol.Optional("report_issue_url"): vol.Url(),
                    }
                )
            }
        ),
        vol.Optional("version"): vol.All(str, verify_version),
        vol.Optional("import_executor"): bool,
    }
)

# HACS checks a custom integration's manifest too, more strictly on a few keys.
HACS_INTEGRATION_MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("codeowners"): list,
        vol.Required("documentation"): cv.url,
        vol.Required("domain"): str,
        vol.Required("issue_tracker"): cv.url,
        vol.Required("name"): str,
        vol.Required("version"): vol.Coerce(AwesomeVersion),
    },
    extra=vol.ALLOW_EXTRA,
)


def _core_component(domain: str) -> bool:
    return (HA_COMPONENTS / domain / "manifest.json").is_file()


def _manifest_problems(manifest: dict[str, Any], dir_name: str) -> list[str]:
    """What hassfest (and HACS) refuse in a custom integration's manifest."""
    problems = [
        f"{name}: {problem}"
        for name, schema in (
            ("hassfest", CUSTOM_INTEGRATION_MANIFEST_SCHEMA),
            ("HACS", HACS_INTEGRATION_MANIFEST_SCHEMA),
        )
        if (problem := _invalid(schema, manifest))
    ]
    domain = manifest.get("domain")
    if domain != dir_name:
        problems.append(f"domain {domain!r} does not match dir name {dir_name!r}")
    if isinstance(domain, str) and _core_component(domain):
        problems.append(f"domain {domain!r} collides with a built-in integration")
    if "iot_class" not in manifest:
        problems.append("Domain is missing an IoT Class")
    if not manifest.get("version"):
        problems.append("No 'version' key in the manifest file")
    keys = list(manifest)
    if keys != sorted(keys, key=lambda key: {"domain": ".0", "name": ".1"}.get(key, key)):
        problems.append("Manifest keys are not sorted correctly: domain, name, then alphabetical")
    problems += [
        f"{key}: {dependency!r} is not a Home Assistant integration"
        for key in ("dependencies", "after_dependencies")
        for dependency in manifest.get(key) or []
        if not isinstance(dependency, str) or not _core_component(dependency)
    ]
    for requirement in manifest.get("requirements") or []:
        try:
            Requirement(requirement)
        except InvalidRequirement, TypeError:
            problems.append(f"requirements: {requirement!r} is not a requirement specifier")
    problems += [
        f"codeowners: {owner!r} is not a GitHub @user or @org/team"
        for owner in manifest.get("codeowners") or []
        if not isinstance(owner, str) or not re.fullmatch(r"@[\w.-]+(/[\w.-]+)?", owner)
    ]
    return problems


def test_manifest_hassfest_and_hacs() -> None:
    """manifest.json passes hassfest's custom integration checks and HACS's."""
    problems = _manifest_problems(_json(INTEGRATION_DIR / "manifest.json"), DOMAIN)
    assert not problems, "\n".join(problems)


GOOD_MANIFEST = _json(INTEGRATION_DIR / "manifest.json")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"iot_class": "cloud"}, "hassfest: value must be one of"),
        ({"integration_type": "virtual"}, "hassfest: value must be one of"),
        ({"version": "one"}, "is not a valid version"),
        ({"version": None}, "No 'version' key"),
        ({"config_flow": "yes"}, "hassfest: expected bool"),
        ({"documentation": "http://example.com"}, "not prefixed with https"),
        ({"documentation": f"{CORE_DOCUMENTATION}/smartcar"}, "should point to the custom"),
        ({"issue_tracker": "not a url"}, "expected a URL"),
        ({"unknown_key": 1}, "hassfest: not a valid option at 'unknown_key'"),
        ({"domain": "smartcar2"}, "does not match dir name"),
        ({"dependencies": ["no_such_integration"]}, "is not a Home Assistant integration"),
        ({"after_dependencies": ["clod"]}, "is not a Home Assistant integration"),
        ({"requirements": ["smartcar>=>1"]}, "is not a requirement specifier"),
        ({"codeowners": ["smartcar-ha"]}, "is not a GitHub @user"),
        ({"iot_class": None}, "missing an IoT Class"),
        ({"issue_tracker": None}, "HACS: required key not provided"),
    ],
)
def test_manifest_checks_catch_mistakes(change: dict[str, Any], expected: str) -> None:
    """Each manifest check rejects a broken copy (a None value removes the key)."""
    manifest = {**GOOD_MANIFEST, **change}
    manifest = {key: value for key, value in manifest.items() if value is not None}
    problems = _manifest_problems(manifest, DOMAIN)
    assert any(expected in problem for problem in problems), problems


def test_manifest_key_order_and_core_collision_caught() -> None:
    """Unsorted keys and a built-in domain are reported."""
    unsorted = {"name": "Smartcar", **GOOD_MANIFEST}
    assert any("not sorted" in p for p in _manifest_problems(unsorted, DOMAIN))
    collides = {**GOOD_MANIFEST, "domain": "cloud"}
    assert any("collides" in p for p in _manifest_problems(collides, "cloud"))


async def test_manifest_home_assistant_loader(hass: HomeAssistant) -> None:
    """Home Assistant's loader accepts the integration as a custom integration and resolves
    its dependencies; every after_dependency is an integration it knows."""
    integration = loader.Integration.resolve_from_root(hass, custom_components, DOMAIN)
    assert integration is not None, "the loader refused manifest.json (see the log)"
    assert not integration.is_built_in
    assert integration.domain == DOMAIN
    assert integration.version == AwesomeVersion(GOOD_MANIFEST["version"])
    assert integration.integration_type in INTEGRATION_TYPES
    assert integration.config_flow is GOOD_MANIFEST.get("config_flow", False)

    custom = await loader.async_get_custom_components(hass)
    assert DOMAIN in custom

    found = await loader.async_get_integration(hass, DOMAIN)
    assert await found.resolve_dependencies() is not None, "dependencies do not resolve"
    for name in integration.after_dependencies:
        after = await loader.async_get_integration(hass, name)
        assert after.is_built_in, name


@pytest.mark.parametrize(
    ("text", "log"),
    [
        ('{"domain": "smartcar", "name": "x", "version": "one"}', "does not have a valid version"),
        ('{"domain": "smartcar", "name": "x"}', "does not have a version key"),
        ('{"domain": "smartcar", "name": "x",}', "Error parsing manifest.json"),
    ],
)
async def test_loader_refuses_broken_manifest(
    hass: HomeAssistant, tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, log: str
) -> None:
    """The loader blocks a custom integration without a valid version or valid JSON."""
    (tmp_path / DOMAIN).mkdir()
    (tmp_path / DOMAIN / "manifest.json").write_text(text)
    root = types.SimpleNamespace(__path__=[str(tmp_path)], __name__="custom_components")
    assert loader.Integration.resolve_from_root(hass, root, DOMAIN) is None  # type: ignore[arg-type]
    assert log in caplog.text


# --- hacs.json: HACS_MANIFEST_JSON_SCHEMA ---------------------------------------------------------


def _country(values: Any) -> list[str]:
    """HACS's country validator: ISO 3166 codes (HACS also takes UK)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        raise vol.Invalid(f"Value '{values}' is not a string or list.")
    countries = [str(value).upper() for value in values]
    for country in countries:
        if country not in COUNTRIES | {"UK"}:
            raise vol.Invalid(f"Value '{country}' is not a valid ISO 3166 country code.")
    return countries


def _ha_version(value: Any) -> str:
    """A Home Assistant version (HACS compares it with AwesomeVersion) this one satisfies."""
    if not isinstance(value, str):
        raise vol.Invalid("expected str")
    try:
        minimum = AwesomeVersion(value, ensure_strategy=[AwesomeVersionStrategy.CALVER])
    except AwesomeVersionException as err:
        raise vol.Invalid(f"'{value}' is not a Home Assistant version") from err
    if minimum > AwesomeVersion(HA_VERSION):
        raise vol.Invalid(f"needs Home Assistant {value}, newer than the installed {HA_VERSION}")
    return value


HACS_MANIFEST_JSON_SCHEMA = vol.Schema(
    {
        vol.Optional("content_in_root"): bool,
        vol.Optional("country"): _country,
        vol.Optional("filename"): str,
        vol.Optional("hacs"): vol.All(str, vol.Coerce(AwesomeVersion)),
        vol.Optional("hide_default_branch"): bool,
        vol.Optional("homeassistant"): _ha_version,
        vol.Optional("persistent_directory"): str,
        vol.Optional("render_readme"): bool,
        vol.Optional("zip_release"): bool,
        vol.Required("name"): str,
    },
    extra=vol.PREVENT_EXTRA,
)


def _hacs_problems(hacs: dict[str, Any], root: Path) -> list[str]:
    problems = [problem] if (problem := _invalid(HACS_MANIFEST_JSON_SCHEMA, hacs)) else []
    if hacs.get("zip_release") and not hacs.get("filename"):
        problems.append("zip_release needs filename")
    if not hacs.get("content_in_root"):
        # HACS takes the one integration in custom_components/.
        found = [
            path.name
            for path in (root / "custom_components").iterdir()
            if path.is_dir() and (path / "manifest.json").is_file()
        ]
        if len(found) != 1:
            problems.append(f"custom_components/ must hold exactly one integration: {found}")
    return problems


def test_hacs_json() -> None:
    """hacs.json passes HACS's schema; its Home Assistant minimum is met by the installed one."""
    problems = _hacs_problems(_json(ROOT / "hacs.json"), ROOT)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": None}, "required key not provided"),
        ({"domains": ["sensor"]}, "not a valid option at 'domains'"),
        ({"homeassistant": "2099.1.0"}, "newer than the installed"),
        ({"homeassistant": "latest"}, "is not a Home Assistant version"),
        ({"render_readme": "yes"}, "expected bool"),
        ({"country": "XX"}, "not a valid ISO 3166"),
        ({"zip_release": True}, "zip_release needs filename"),
    ],
)
def test_hacs_checks_catch_mistakes(change: dict[str, Any], expected: str) -> None:
    """Each hacs.json check rejects a broken copy (a None value removes the key)."""
    hacs = {**_json(ROOT / "hacs.json"), **change}
    hacs = {key: value for key, value in hacs.items() if value is not None}
    problems = _hacs_problems(hacs, ROOT)
    assert any(expected in problem for problem in problems), problems


def test_hacs_wants_one_integration(tmp_path: Path) -> None:
    """Two integrations in custom_components/ are refused."""
    for name in ("one", "two"):
        (tmp_path / "custom_components" / name).mkdir(parents=True)
        (tmp_path / "custom_components" / name / "manifest.json").write_text("{}")
    problems = _hacs_problems({"name": "x"}, tmp_path)
    assert any("exactly one integration" in problem for problem in problems)


# --- strings.json and translations/*.json: hassfest's gen_strings_schema --------------------------

RE_REFERENCE = re.compile(r"\[\%key:(.+)\%\]")
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
RE_PLACEHOLDER_IN_SINGLE_QUOTES = re.compile(r"'{\w+}'")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)


def translation_key_validator(value: str) -> str:
    if RE_TRANSLATION_KEY.match(value) is None:
        raise vol.Invalid(
            f"Invalid translation key '{value}', need to be [a-z0-9-_]+ and"
            " cannot start or end with a hyphen or underscore."
        )
    return value


def _placeholders(value: str, allow_placeholders: bool) -> str:
    """Placeholders are identifiers in balanced braces, and only where they are allowed."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(value) if field]
    except ValueError as err:  # an unbalanced brace
        raise vol.Invalid(f"invalid placeholder syntax: {err}") from err
    for field in fields:
        if not allow_placeholders:
            raise vol.Invalid("placeholders are not supported in this value")
        if not field.isidentifier():
            raise vol.Invalid("placeholders must be valid identifiers ([a-zA-Z_][a-zA-Z0-9_]*)")
    return value


def _translation_value(allow_placeholders: bool = True) -> Callable[[Any], str]:
    def validate(value: Any) -> str:
        text = cv.string_with_no_html(value)
        if RE_PLACEHOLDER_IN_SINGLE_QUOTES.search(text):
            raise vol.Invalid("the string should not contain placeholders inside single quotes")
        _placeholders(text, allow_placeholders)
        if RE_COMBINED_REFERENCE.search(text):
            raise vol.Invalid("the string should not contain combined translations")
        if text != text.strip():
            raise vol.Invalid("the string should not contain leading or trailing spaces")
        if RE_URL.search(text):
            raise vol.Invalid(
                "the string should not contain URLs, please use description placeholders instead"
            )
        return text

    return validate


text = _translation_value()
text_without_placeholders = _translation_value(allow_placeholders=False)


def _data_entry_schema(*, subentry_flow: bool = False) -> Callable[[Any], Any]:
    """A config, options or repair flow's strings."""
    schema: dict[Any, Any] = {
        vol.Optional("flow_title"): text,
        vol.Required("step"): {
            str: {
                vol.Optional("title"): text,
                vol.Optional("description"): text,
                vol.Optional("data"): {str: text},
                vol.Optional("data_description"): {str: text},
                vol.Optional("menu_options"): {str: text},
                vol.Optional("menu_option_descriptions"): {str: text},
                vol.Optional("submit"): text,
                vol.Optional("sections"): {
                    str: {
                        vol.Optional("data"): {str: text},
                        vol.Optional("data_description"): {str: text},
                        vol.Optional("description"): text,
                        vol.Optional("name"): text,
                    },
                },
            }
        },
        vol.Optional("error"): {str: text},
        vol.Optional("abort"): {str: text},
        vol.Optional("progress"): {str: text},
        vol.Optional("create_entry"): {str: text},
    }
    if subentry_flow:
        schema[vol.Required("entry_type")] = text
        schema[vol.Required("initiate_flow")] = {vol.Required("user"): text, str: text}
    else:
        schema[vol.Optional("initiate_flow")] = {vol.Required("user"): text}

    def data_description_in_data(value: dict[str, Any]) -> dict[str, Any]:
        for step_id, step in value["step"].items():
            for key in step.get("data_description", {}):
                if key not in step.get("data", {}):
                    raise vol.Invalid(f"step {step_id}: data_description key {key} is not in data")
        return value

    return vol.All(vol.Schema(schema), data_description_in_data)


def _fields(extra: dict[Any, Any] | None = None) -> Any:
    return cv.schema_with_slug_keys(
        {vol.Required("name"): str, vol.Required("description"): text, **(extra or {})},
        slug_validator=translation_key_validator,
    )


def _state_translations() -> Any:
    return cv.schema_with_slug_keys(
        text_without_placeholders, slug_validator=translation_key_validator
    )


STRINGS_SCHEMA = vol.Schema(
    {
        # Only a warning for a custom integration (hassfest REMOVED_TITLE_MSG); still a string.
        vol.Optional("title"): text,
        vol.Optional("config"): _data_entry_schema(),
        vol.Optional("config_subentries"): cv.schema_with_slug_keys(
            _data_entry_schema(subentry_flow=True), slug_validator=vol.Any("_", cv.slug)
        ),
        vol.Optional("options"): _data_entry_schema(),
        vol.Optional("preview_features"): cv.schema_with_slug_keys(
            {
                vol.Required("name"): text,
                vol.Required("description"): text,
                vol.Optional("enable_confirmation"): text,
                vol.Optional("disable_confirmation"): text,
            },
            slug_validator=translation_key_validator,
        ),
        vol.Optional("selector"): cv.schema_with_slug_keys(
            {
                vol.Optional("choices"): cv.schema_with_slug_keys(
                    text, slug_validator=translation_key_validator
                ),
                vol.Optional("options"): cv.schema_with_slug_keys(
                    text, slug_validator=translation_key_validator
                ),
                vol.Optional("unit_of_measurement"): cv.schema_with_slug_keys(
                    text, slug_validator=translation_key_validator
                ),
                vol.Optional("fields"): vol.Any(cv.schema_with_slug_keys(str), _fields()),
            },
            slug_validator=vol.Any("_", cv.slug),
        ),
        vol.Optional("device_automation"): {
            vol.Optional("action_type"): {str: text},
            vol.Optional("condition_type"): {str: text},
            vol.Optional("trigger_type"): {str: text},
            vol.Optional("trigger_subtype"): {str: text},
            vol.Optional("extra_fields"): {str: text},
            vol.Optional("extra_fields_descriptions"): {str: text},
        },
        vol.Optional("system_health"): {
            vol.Optional("info"): cv.schema_with_slug_keys(
                text, slug_validator=translation_key_validator
            ),
        },
        vol.Optional("config_panel"): vol.Schema(
            vol.Any({vol.Any(translation_key_validator, "_"): vol.Self}, text)
        ),
        vol.Optional("application_credentials"): {vol.Optional("description"): text},
        vol.Optional("issues"): {
            str: vol.All(
                cv.has_at_least_one_key("description", "fix_flow"),
                vol.Schema(
                    {
                        vol.Required("title"): text,
                        vol.Exclusive("description", "fixable"): text,
                        vol.Exclusive("fix_flow", "fixable"): _data_entry_schema(),
                    }
                ),
            )
        },
        vol.Optional("device"): cv.schema_with_slug_keys(
            {vol.Optional("name"): text}, slug_validator=translation_key_validator
        ),
        vol.Optional("entity"): cv.schema_with_slug_keys(
            cv.schema_with_slug_keys(
                {
                    vol.Optional("name"): text,
                    vol.Optional("state"): _state_translations(),
                    vol.Optional("state_attributes"): cv.schema_with_slug_keys(
                        {
                            vol.Optional("name"): text_without_placeholders,
                            vol.Optional("state"): _state_translations(),
                        },
                        slug_validator=translation_key_validator,
                    ),
                    vol.Optional("unit_of_measurement"): text_without_placeholders,
                },
                slug_validator=translation_key_validator,
            ),
            slug_validator=vol.All(cv.slug, vol.In([p.value for p in Platform])),
        ),
        vol.Optional("exceptions"): cv.schema_with_slug_keys(
            {vol.Optional("message"): text}, slug_validator=cv.slug
        ),
        vol.Optional("services"): cv.schema_with_slug_keys(
            {
                vol.Required("name"): text,
                vol.Required("description"): text,
                vol.Optional("fields"): _fields({vol.Optional("example"): text}),
                vol.Optional("sections"): cv.schema_with_slug_keys(
                    {vol.Required("name"): str, vol.Optional("description"): text},
                    slug_validator=translation_key_validator,
                ),
            },
            slug_validator=translation_key_validator,
        ),
        vol.Optional("conditions"): cv.schema_with_slug_keys(
            {
                vol.Required("name"): text,
                vol.Required("description"): text,
                vol.Optional("fields"): _fields({vol.Optional("example"): text}),
            },
            slug_validator=cv.underscore_slug,
        ),
        vol.Optional("triggers"): cv.schema_with_slug_keys(
            {
                vol.Required("name"): text,
                vol.Required("description"): text,
                vol.Optional("fields"): _fields({vol.Optional("example"): text}),
            },
            slug_validator=cv.underscore_slug,
        ),
        vol.Optional("conversation"): {vol.Required("agent"): {vol.Required("done"): text}},
        vol.Optional("common"): vol.Schema({cv.slug: text}),
    }
)


def _reference_problems(strings: dict[str, Any], prefix: str = "") -> list[str]:
    """`[%key:…%]` references that Home Assistant's common strings (or an integration's
    strings.json) do not have, or that point at another reference (one level only)."""
    problems = []
    for key, value in strings.items():
        if isinstance(value, dict):
            problems += _reference_problems(value, f"{prefix}{key}::")
            continue
        if not isinstance(value, str) or not (match := RE_REFERENCE.fullmatch(value)):
            continue
        parts = match.group(1).split("::")
        if parts[0] == "common":
            search: Any = _json(HA_DIR / "strings.json")
        elif parts[0] == "component" and len(parts) > 2:
            path = (
                INTEGRATION_DIR / "strings.json"
                if parts[1] == DOMAIN
                else HA_COMPONENTS / parts[1] / "strings.json"
            )
            search = _json(path) if path.is_file() else {}
            parts = parts[2:]
        else:
            search = {}
        for part in parts:
            search = search.get(part) if isinstance(search, dict) else None
        if not isinstance(search, str):
            problems.append(f"{prefix}{key}: invalid reference {match.group(1)}")
        elif RE_REFERENCE.fullmatch(search):
            problems.append(f"{prefix}{key}: {match.group(1)} is a reference itself")
    return problems


TRANSLATION_FILES = [
    INTEGRATION_DIR / "strings.json",
    *sorted((INTEGRATION_DIR / "translations").glob("*.json")),
]


@pytest.mark.parametrize("path", TRANSLATION_FILES, ids=lambda path: path.name)
def test_strings_and_translations_schema(path: Path) -> None:
    """strings.json and every translations/*.json pass hassfest's strings schema."""
    _assert_valid(STRINGS_SCHEMA, _json(path), path.name)


def test_strings_references() -> None:
    """Every `[%key:…%]` in strings.json names an existing text, not another reference."""
    problems = _reference_problems(_json(INTEGRATION_DIR / "strings.json"))
    assert not problems, "\n".join(problems)


GOOD_STRINGS = _json(INTEGRATION_DIR / "strings.json")

# A valid strings.json in small, the base of the broken copies (the real file may be broken).
SAMPLE_STRINGS: dict[str, Any] = {
    "config": {
        "step": {
            "user": {
                "title": "Connect your cars",
                "description": "Sign in at [Smartcar]({connect_url}).",
                "data": {"mode": "Vehicles"},
                "data_description": {"mode": "Real or simulated vehicles."},
            },
            "reauth_confirm": {"title": "[%key:common::config_flow::title::reauth%]"},
        },
        "abort": {
            "no_vehicles": "No vehicle.",
            "reauth_successful": "[%key:common::config_flow::abort::reauth_successful%]",
        },
        "error": {"invalid_pin": "The PIN must be 4 to 8 digits."},
        "create_entry": {"default": "Done."},
    },
    "options": {"step": {"init": {"data": {"unlock_pin": "Unlock PIN"}}}},
    "selector": {"mode": {"options": {"live": "My vehicles", "simulated": "Simulated"}}},
    "entity": {
        "sensor": {
            "odometer": {"name": "Odometer"},
            "charging_state": {"name": "Charging state", "state": {"charging": "Charging"}},
            "trouble_codes": {"state_attributes": {"codes": {"name": "Codes"}}},
        }
    },
    "exceptions": {"auth_failed": {"message": "Sign in again: {error}"}},
    "issues": {"billing_limit": {"title": "{vehicle}: limit", "description": "Wait."}},
    "services": {
        "refresh": {"name": "Refresh now", "description": "Reads the car."},
        "set_destination": {
            "name": "Set destination",
            "description": "Sends a destination.",
            "fields": {"latitude": {"name": "Latitude", "description": "-90 to 90."}},
        },
    },
}


def test_sample_strings_valid() -> None:
    """The base of the broken copies below is valid."""
    _assert_valid(STRINGS_SCHEMA, SAMPLE_STRINGS, "sample")
    assert not _reference_problems(SAMPLE_STRINGS)


def _changed(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `data` with `a.b.c` set to `value` (None deletes it)."""
    broken = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = broken
    for part in parents:
        node = node.setdefault(part, {})
    if value is None:
        del node[last]
    else:
        node[last] = value
    return broken


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("unknown_section", {"a": "b"}, "not a valid option at 'unknown_section'"),
        ("config.step.user.subtitle", "x", "not a valid option"),
        ("config.step", None, "required key not provided"),
        ("config.step.user.data_description.nope", "x", "data_description key nope"),
        ("config.abort.no_vehicles", "See https://smartcar.com for help", "not contain URLs"),
        ("config.abort.no_vehicles", "Click <b>here</b>", "HTML"),
        ("config.abort.no_vehicles", " padded", "leading or trailing spaces"),
        ("config.abort.no_vehicles", "Car {vehicle", "invalid placeholder syntax"),
        ("config.abort.no_vehicles", "Car vehicle}", "invalid placeholder syntax"),
        ("config.abort.no_vehicles", "Car {the vehicle}", "valid identifiers"),
        ("config.abort.no_vehicles", "Car '{vehicle}'", "inside single quotes"),
        ("config.abort.no_vehicles", "See [%key:common::x%] too", "combined translations"),
        ("entity.sensor.odometer.state", {"high": "{value} km"}, "placeholders are not supported"),
        ("entity.sensor.Odometer", {"name": "Odometer"}, "Invalid translation key"),
        ("entity.car", {"odometer": {"name": "Odometer"}}, "value must be one of"),
        ("entity.sensor.odometer.icon", "mdi:counter", "not a valid option"),
        ("exceptions.auth_failed.text", "x", "not a valid option"),
        ("issues.billing_limit.title", None, "required key not provided"),
        ("issues.billing_limit.fix_flow", {"step": {}}, "two or more values in the same group"),
        ("issues.new_issue", {"title": "x"}, "at least one of"),
        ("services.refresh.description", None, "required key not provided"),
        ("services.set_destination.fields.latitude.name", None, "required key not provided"),
        ("selector.mode.options.Live", "x", "Invalid translation key"),
    ],
)
def test_strings_schema_catches_mistakes(path: str, value: Any, expected: str) -> None:
    """hassfest's strings schema rejects each broken copy of strings.json."""
    problem = _invalid(STRINGS_SCHEMA, _changed(SAMPLE_STRINGS, path, value))
    assert problem is not None, f"{path} = {value!r} was accepted"
    assert expected.lower() in problem.lower(), problem


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("[%key:common::config_flow::abort::no_such_text%]", "invalid reference"),
        ("[%key:component::smartcar::config::abort::nope%]", "invalid reference"),
        ("[%key:component::smartcar::config::abort::already_in_progress%]", "reference itself"),
        ("[%key:nowhere::x%]", "invalid reference"),
    ],
)
def test_reference_check_catches_mistakes(reference: str, expected: str) -> None:
    """A reference to nothing, or to another reference, is refused."""
    problems = _reference_problems({"config": {"abort": {"x": reference}}})
    assert any(expected in problem for problem in problems), problems
    assert not _reference_problems({"a": "[%key:common::config_flow::abort::reauth_successful%]"})


# --- icons.json: hassfest's icon_schema for a hub ---------------------------------------------------


def _mdi_names() -> set[str]:
    """The Material Design Icons the installed frontend knows (as hassfest's mdi_icons)."""
    import hass_frontend

    icon_list = Path(hass_frontend.__path__[0]) / "static" / "mdi" / "iconList.json"
    return {icon["name"] for icon in json.loads(icon_list.read_text(encoding="utf-8"))}


MDI_NAMES = _mdi_names()


def icon_value_validator(value: Any) -> str:
    value = cv.string_with_no_html(value)
    if not value.startswith("mdi:"):
        raise vol.Invalid(
            "The icon needs to be a valid icon from Material Design Icons and start with `mdi:`"
        )
    if value.removeprefix("mdi:") not in MDI_NAMES:
        raise vol.Invalid(f"{value} is not an icon of the installed frontend's MDI set")
    return str(value)


def ensure_not_same_as_default(value: dict[str, Any]) -> dict[str, Any]:
    """A state's icon differing from the default (hassfest: it can be removed)."""
    for platform, keys in value.items():
        for key, section in keys.items():
            default = section.get("default")
            for state, icon in (section.get("state") or {}).items():
                if icon == default:
                    raise vol.Invalid(
                        f"The icon for state `{platform}.{key}.{state}` is the same as the"
                        " default icon and thus can be removed"
                    )
    return value


STATE_ICONS = cv.schema_with_slug_keys(
    icon_value_validator, slug_validator=translation_key_validator
)
DATA_ENTRY_ICONS_SCHEMA = vol.Schema({"step": {str: {"section": {str: icon_value_validator}}}})
ICONS_SCHEMA = vol.Schema(
    {
        vol.Optional("config"): DATA_ENTRY_ICONS_SCHEMA,
        vol.Optional("issues"): vol.Schema({str: {"fix_flow": DATA_ENTRY_ICONS_SCHEMA}}),
        vol.Optional("options"): DATA_ENTRY_ICONS_SCHEMA,
        vol.Optional("services"): cv.schema_with_slug_keys(
            vol.Any(icon_value_validator, {vol.Optional("service"): icon_value_validator}),
            slug_validator=translation_key_validator,
        ),
        vol.Optional("entity"): vol.All(
            cv.schema_with_slug_keys(
                cv.schema_with_slug_keys(
                    {
                        vol.Optional("default"): icon_value_validator,
                        vol.Optional("state"): STATE_ICONS,
                        vol.Optional("range"): {vol.Coerce(float): icon_value_validator},
                        vol.Optional("state_attributes"): cv.schema_with_slug_keys(
                            {
                                vol.Optional("default"): icon_value_validator,
                                vol.Optional("state"): STATE_ICONS,
                            },
                            slug_validator=translation_key_validator,
                        ),
                    },
                    slug_validator=translation_key_validator,
                ),
                slug_validator=vol.All(cv.slug, vol.In([p.value for p in Platform])),
            ),
            ensure_not_same_as_default,
        ),
    }
)


def _services_yaml() -> dict[str, Any]:
    return load_yaml_dict(INTEGRATION_DIR / "services.yaml")


def _icon_problems(icons: dict[str, Any], strings: dict[str, Any], services: set[str]) -> list[str]:
    """Schema, and agreement with strings.json's entities and services.yaml's services."""
    problems = [problem] if (problem := _invalid(ICONS_SCHEMA, icons)) else []
    translated = strings.get("entity", {})
    for platform, keys in icons.get("entity", {}).items():
        for key, section in keys.items():
            if key not in translated.get(platform, {}):
                problems.append(f"entity.{platform}.{key} is not in strings.json")
                continue
            states = translated[platform][key].get("state")
            if states is not None:
                problems += [
                    f"entity.{platform}.{key}: state {state} is not in strings.json"
                    for state in section.get("state", {})
                    if state not in states
                ]
    problems += [
        f"service {name} has no icon" for name in services - set(icons.get("services", {}))
    ]
    problems += [
        f"icon for unknown service {name}" for name in set(icons.get("services", {})) - services
    ]
    return problems


GOOD_ICONS = _json(INTEGRATION_DIR / "icons.json")


def test_icons() -> None:
    """icons.json passes hassfest's icon schema, with icons the frontend has, for entities
    strings.json names, and gives every action in services.yaml an icon."""
    problems = _icon_problems(GOOD_ICONS, GOOD_STRINGS, set(_services_yaml()))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("entity.sensor.odometer.default", "counter", "start with `mdi:`"),
        ("entity.sensor.odometer.default", "mdi:no-such-icon-anywhere", "not an icon of"),
        ("entity.sensor.odometer.color", "red", "not a valid option"),
        ("entity.sensor.charging_state.state.charging", "mdi:battery-unknown", "same as the"),
        ("entity.sensor.no_such_sensor", {"default": "mdi:car"}, "is not in strings.json"),
        ("entity.sensor.charging_state.state.exploding", "mdi:fire", "state exploding is not"),
        ("services.refresh", None, "service refresh has no icon"),
        ("services.honk", {"service": "mdi:bullhorn"}, "icon for unknown service honk"),
        ("services.refresh.service", "refresh", "start with `mdi:`"),
        ("states", {}, "not a valid option at 'states'"),
    ],
)
def test_icon_checks_catch_mistakes(path: str, value: Any, expected: str) -> None:
    """Each icons.json check rejects a broken copy."""
    problems = _icon_problems(
        _changed(GOOD_ICONS, path, value), GOOD_STRINGS, set(_services_yaml())
    )
    assert any(expected in problem for problem in problems), problems


# --- services.yaml: Home Assistant's own schema, and hassfest's for custom integrations -----------


def _exists(value: Any) -> Any:
    if value is None:
        raise vol.Invalid("Value cannot be None")
    return value


def _unique_fields(fields: dict[str, Any]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, value in fields.items():
        for name in value["fields"] if value and "fields" in value else [key]:
            if name in seen:
                raise vol.Invalid(f"Duplicate use of field {name} in service.")
            seen.add(name)
    return fields


HASSFEST_FIELD_SCHEMA = vol.Schema(
    {
        vol.Optional("example"): _exists,
        vol.Optional("default"): _exists,
        vol.Optional("required"): bool,
        vol.Optional("advanced"): bool,
        vol.Optional("selector"): selector.validate_selector,
        vol.Optional("filter"): {
            vol.Exclusive("attribute", "field_filter"): {
                vol.Required(str): [vol.All(str, service_helper.validate_attribute_option)],
            },
            vol.Exclusive("supported_features", "field_filter"): [
                vol.All(str, service_helper.validate_supported_feature)
            ],
        },
        vol.Optional("description"): str,
        vol.Optional("name"): str,
    }
)
HASSFEST_SERVICES_SCHEMA = vol.Schema(
    {
        cv.slug: vol.Any(
            vol.Schema(
                {
                    vol.Optional("description"): str,
                    vol.Optional("name"): str,
                    vol.Optional("target"): vol.Any(selector.TargetSelector.CONFIG_SCHEMA, None),
                    vol.Optional("fields"): vol.All(
                        vol.Schema(
                            {
                                str: vol.Any(
                                    HASSFEST_FIELD_SCHEMA,
                                    vol.Schema(
                                        {
                                            vol.Optional("description"): str,
                                            vol.Optional("name"): str,
                                            vol.Optional("collapsed"): bool,
                                            vol.Required("fields"): vol.Schema(
                                                {str: HASSFEST_FIELD_SCHEMA}
                                            ),
                                        }
                                    ),
                                )
                            }
                        ),
                        _unique_fields,
                    ),
                }
            ),
            None,
        )
    }
)


def _service_problems(services: Any, strings: dict[str, Any]) -> list[str]:
    """Home Assistant's and hassfest's schemas, and the texts strings.json must have."""
    problems = [
        f"{name}: {problem}"
        for name, schema in (
            ("Home Assistant", service_helper._SERVICES_SCHEMA),
            ("hassfest", HASSFEST_SERVICES_SCHEMA),
        )
        if (problem := _invalid(schema, services))
    ]
    if problems or not isinstance(services, dict):
        return problems
    texts = strings.get("services", {})
    for name, schema in services.items():
        text = texts.get(name, {})
        problems += [
            f"service {name} has no {key} in strings.json"
            for key in ("name", "description")
            if key not in (schema or {}) and key not in text
        ]
        fields = {
            field: value
            for key, value in (schema or {}).get("fields", {}).items()
            for field, value in (value or {}).get("fields", {key: value}).items()
        }
        for field, value in fields.items():
            problems += [
                f"service {name}: field {field} has no {key} in strings.json"
                for key in ("name", "description")
                if key not in (value or {}) and key not in text.get("fields", {}).get(field, {})
            ]
        problems += [
            f"service {name}: strings.json has a text for unknown field {field}"
            for field in text.get("fields", {})
            if field not in fields
        ]
    problems += [
        f"strings.json has texts for unknown service {name}"
        for name in texts
        if name not in services
    ]
    return problems


GOOD_SERVICES = _services_yaml()


def test_services_yaml() -> None:
    """services.yaml, read by Home Assistant's YAML loader, passes Home Assistant's services.yaml
    schema and hassfest's, and strings.json names and describes every action and field."""
    problems = _service_problems(GOOD_SERVICES, GOOD_STRINGS)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("set_destination.fields.latitude.selector", {"no_such_selector": {}}, "Home Assistant:"),
        (
            "set_destination.fields.latitude.selector",
            {"number": {"mode": "dial"}},
            "Home Assistant:",
        ),
        ("refresh.target", {"entity": {"no_such_filter": 1}}, "Home Assistant:"),
        ("Set-Destination", {}, "Home Assistant:"),
        ("set_destination.fields.latitude.example", None, "hassfest: Value cannot be None"),
        ("set_destination.fields.latitude.requird", True, "hassfest: not a valid option"),
        ("set_destination.fieldz", {}, "hassfest: not a valid option"),
        ("honk", {"fields": {}}, "service honk has no name in strings.json"),
        ("set_destination.fields.speed", {"selector": {"text": None}}, "field speed has no name"),
        ("set_destination.fields.address", None, "unknown field address"),
        ("refresh", None, "texts for unknown service refresh"),
    ],
)
def test_service_checks_catch_mistakes(path: str, value: Any, expected: str) -> None:
    """Each services.yaml check rejects a broken copy (an example None is refused by hassfest;
    elsewhere a None value deletes)."""
    if path.endswith(".example"):
        services = copy.deepcopy(GOOD_SERVICES)
        services["set_destination"]["fields"]["latitude"]["example"] = None
    else:
        services = _changed(GOOD_SERVICES, path, value)
    problems = _service_problems(services, GOOD_STRINGS)
    assert any(expected in problem for problem in problems), problems


async def test_services_registered_and_described(hass: HomeAssistant) -> None:
    """The integration registers exactly the actions of services.yaml, and Home Assistant builds
    their descriptions (fields from services.yaml, names from the translations)."""
    async_setup_services(hass)
    registered = set(hass.services.async_services_for_domain(DOMAIN))
    assert registered == set(GOOD_SERVICES)

    descriptions = (await service_helper.async_get_all_descriptions(hass))[DOMAIN]
    assert set(descriptions) == set(GOOD_SERVICES)
    normalized = service_helper._SERVICES_SCHEMA(GOOD_SERVICES)
    for name, description in descriptions.items():
        assert description["fields"] == (normalized[name] or {}).get("fields", {})
        assert description.get("target") == (normalized[name] or {}).get("target")

    texts = await translation.async_get_translations(hass, "en", "services", [DOMAIN])
    for name, text in GOOD_STRINGS["services"].items():
        assert texts[f"component.{DOMAIN}.services.{name}.name"] == text["name"]


# --- blueprints: Home Assistant's YAML loader, blueprint models and automation validation ---------

BLUEPRINT_SCHEMAS: dict[str, Callable[[Any], Any]] = {
    "automation": AUTOMATION_BLUEPRINT_SCHEMA,
    "script": BLUEPRINT_SCHEMA,
}
BLUEPRINT_FILES = sorted(BLUEPRINTS_DIR.glob("**/*.yaml"))
EMPTY: tuple[Any, ...] = (None, "", [], {})  # an optional input left empty
SAMPLE_ENTITY = "smartcar_sample"


def _blueprint_files(root: Path) -> list[Path]:
    files = sorted(root.glob("**/*.yaml"))
    assert files, f"no blueprints in {root}"
    return files


def test_blueprints_exist() -> None:
    """The project ships blueprints (blueprints/<domain>/smartcar/*.yaml)."""
    for path in _blueprint_files(BLUEPRINTS_DIR):
        relative = path.relative_to(BLUEPRINTS_DIR).parts
        assert len(relative) == 3, f"{path}: not blueprints/<domain>/{DOMAIN}/<name>.yaml"
        assert relative[0] in BLUEPRINT_SCHEMAS, f"{path}: unknown blueprint domain"
        assert relative[1] == DOMAIN, f"{path}: not in a {DOMAIN} folder"


def test_blueprint_glob_fails_when_empty(tmp_path: Path) -> None:
    """No blueprint at all is a failure, not a silently skipped test."""
    with pytest.raises(AssertionError, match="no blueprints"):
        _blueprint_files(tmp_path / "empty")


def _selector(config: dict[str, Any]) -> Callable[[Any], Any]:
    """Home Assistant's selector for `config`: called with a value, validates it."""
    validator: Callable[[Any], Any] = selector.selector(config)  # type: ignore[assignment]
    return validator


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _sample(selector_config: dict[str, Any] | None) -> Any:
    """A value the selector accepts, for an input that has no default."""
    if not selector_config:
        return "sample"
    ((kind, options),) = selector_config.items()
    options = options or {}
    multiple = bool(options.get("multiple"))
    match kind:
        case "entity":
            entity_filter = _first(options.get("filter")) or {}
            domain = _first(entity_filter.get("domain")) or "sensor"
            value: Any = f"{domain}.{SAMPLE_ENTITY}"
        case "device" | "area" | "floor" | "label" | "config_entry":
            value = f"{SAMPLE_ENTITY}_{kind}"
        case "target":
            return {"entity_id": [f"sensor.{SAMPLE_ENTITY}"]}
        case "number":
            value = options.get("min", 0)
        case "boolean":
            value = True
        case "text" | "state" | "attribute":
            value = "sample"
        case "template":
            value = "{{ true }}"
        case "select":
            option = _first(options["options"])
            value = option["value"] if isinstance(option, dict) else option
        case "time":
            value = "08:00:00"
        case "date":
            value = "2026-11-02"
        case "datetime":
            value = "2026-11-02 08:00:00"
        case "duration":
            value = {"hours": 0, "minutes": 5, "seconds": 0}
        case "action" | "condition" | "trigger":
            return []
        case "object":
            return {}
        case "icon":
            value = "mdi:car"
        case "language":
            value = "en"
        case "conversation_agent":
            value = "conversation.home_assistant"
        case "location":
            value = {"latitude": 52.37, "longitude": 4.89}
        case "constant":
            value = options["value"]
        case "color_rgb":
            value = [255, 0, 0]
        case _:
            pytest.fail(f"no sample value for a {kind} selector: add one to _sample")
    value = [value] if multiple else value
    _selector(selector_config)(value)  # the sample must be one the selector accepts
    return value


def _load_blueprint(path: Path) -> Blueprint:
    """As Home Assistant loads a blueprint file: its YAML loader (`!input`), the domain's
    blueprint schema, the domain expected from the folder."""
    domain = path.relative_to(path.parents[2]).parts[0]
    data = load_yaml_dict(path)
    schema = BLUEPRINT_SCHEMAS.get(domain, BLUEPRINT_SCHEMA)
    return Blueprint(data, expected_domain=domain, path=str(path), schema=schema)


def _blueprint_problems(blueprint: Blueprint, path: Path) -> list[str]:
    """validate() (Home Assistant version), defaults the selectors accept, source_url."""
    problems = list(blueprint.validate() or [])
    for name, given in blueprint.inputs.items():
        spec = given or {}
        default = spec.get("default")
        if "selector" in spec and default not in EMPTY:
            try:
                _selector(spec["selector"])(default)
            except vol.Invalid as err:
                problems.append(f"input {name}: default {default!r} refused by its selector: {err}")
    source_url = blueprint.metadata.get("source_url")
    relative = "/".join(path.parts[-4:])  # blueprints/<domain>/smartcar/<name>.yaml
    if source_url is not None and not str(source_url).endswith(relative):
        problems.append(f"source_url {source_url} is not this file ({relative})")
    return problems


def _sample_inputs(blueprint: Blueprint, *, fill: bool = False) -> dict[str, Any]:
    """Sample values for the inputs without a default (none when every input has one); with
    `fill`, for the optional ones left empty by default too (a start time, a price sensor)."""
    inputs = {}
    for name, given in blueprint.inputs.items():
        spec = given or {}
        if "default" not in spec or (fill and spec["default"] in EMPTY):
            inputs[name] = _sample(spec.get("selector"))
    return inputs


@pytest.fixture
def hass_config_dir(tmp_path: Path) -> str:
    """Home Assistant's config dir for these tests: the project's blueprints where a user's
    imported ones are (<config>/blueprints/<domain>/smartcar/)."""
    if BLUEPRINTS_DIR.is_dir():
        shutil.copytree(BLUEPRINTS_DIR, tmp_path / "blueprints")
    return str(tmp_path)


async def _validate_instance(
    hass: HomeAssistant, domain: str, blueprint_path: str, inputs: dict[str, Any]
) -> dict[str, Any]:
    """Validate a config using the blueprint as Home Assistant does when an automation (or
    script) is saved: load, substitute the inputs, then the full config validation."""
    config = {"alias": "Sample", "use_blueprint": {"path": blueprint_path, "input": inputs}}
    validated: dict[str, Any] | None
    if domain == "automation":
        config["id"] = "sample"
        validated = await async_validate_automation(hass, "sample", config)
    else:
        validated = await async_validate_script(hass, "sample", config)
    assert validated is not None
    return dict(validated)


@pytest.mark.parametrize("fill", [False, True], ids=["defaults", "filled"])
@pytest.mark.parametrize(
    "path", BLUEPRINT_FILES, ids=lambda path: str(path.relative_to(BLUEPRINTS_DIR))
)
async def test_blueprint(hass: HomeAssistant, path: Path, fill: bool) -> None:
    """Each blueprint loads with Home Assistant's blueprint schema, runs on this Home Assistant,
    and a config using it is a valid automation (or script): with sample values for the inputs
    without a default ("defaults"), and also for those empty by default ("filled")."""
    blueprint = _load_blueprint(path)
    problems = _blueprint_problems(blueprint, path)
    assert not problems, "\n".join(problems)

    inputs = _sample_inputs(blueprint, fill=fill)
    # Substitution on its own: every !input is replaced.
    config = {"use_blueprint": {"path": path.name, "input": inputs}}
    substituted = BlueprintInputs(blueprint, config)
    substituted.validate()
    assert not _contains_input(substituted.async_substitute())

    domain, *rest = path.relative_to(BLUEPRINTS_DIR).parts
    validated = await _validate_instance(hass, domain, "/".join(rest), inputs)
    if domain == "automation":
        assert validated["triggers"], "the automation has no trigger"
        assert validated["actions"], "the automation has no action"
    else:
        assert validated["sequence"], "the script has no action"


def _contains_input(data: Any) -> bool:
    if isinstance(data, Input):
        return True
    if isinstance(data, dict):
        return any(_contains_input(v) for v in data.values())
    if isinstance(data, list):
        return any(_contains_input(v) for v in data)
    return False


SAMPLE_BLUEPRINT = """\
blueprint:
  name: Sample
  domain: automation
  homeassistant:
    min_version: 2024.6.0
  input:
    battery:
      name: Battery
      selector:
        entity:
          filter:
            - integration: smartcar
              domain: sensor
    below:
      name: Below
      default: 20
      selector:
        number:
          min: 1
          max: 100
triggers:
  - trigger: numeric_state
    entity_id: !input battery
    below: !input below
actions:
  - action: persistent_notification.create
    data:
      message: "Low battery"
"""


def _write_blueprint(config_dir: Path, name: str, text: str) -> Path:
    path = config_dir / "blueprints" / "automation" / DOMAIN / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


async def test_blueprint_checks_accept_sample(hass: HomeAssistant) -> None:
    """The checks above pass a good blueprint (so that their failures below mean something)."""
    path = _write_blueprint(Path(hass.config.config_dir), "sample.yaml", SAMPLE_BLUEPRINT)
    blueprint = _load_blueprint(path)
    assert _blueprint_problems(blueprint, path) == []
    inputs = _sample_inputs(blueprint)
    assert inputs == {"battery": f"sensor.{SAMPLE_ENTITY}"}
    validated = await _validate_instance(hass, "automation", f"{DOMAIN}/sample.yaml", inputs)
    assert validated["triggers"][0]["entity_id"] == [f"sensor.{SAMPLE_ENTITY}"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("entity_id: !input battery", "entity_id: !input batery", "Missing input definition"),
        ("domain: automation", "domain: script", "expected automation"),
        ("  name: Sample\n", "", "required key not provided"),
        ("min_version: 2024.6.0", "min_version: '2024.6'", "Version needs to be formatted"),
        ("min_version: 2024.6.0", "min_version: 2024.6", "Version needs to be a string"),
        (
            "    below:\n",
            "    more:\n      input:\n        battery:\n          name: Again\n    below:\n",
            "Duplicate use of input key battery",
        ),
    ],
    ids=[
        "undeclared-input",
        "wrong-domain",
        "no-name",
        "short-version",
        "float-version",
        "duplicate-input",
    ],
)
def test_blueprint_schema_catches_mistakes(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """Home Assistant's blueprint loading refuses a broken copy."""
    assert old in SAMPLE_BLUEPRINT
    path = _write_blueprint(tmp_path, "broken.yaml", SAMPLE_BLUEPRINT.replace(old, new))
    with pytest.raises((InvalidBlueprint, HomeAssistantError)) as raised:
        _load_blueprint(path)
    assert expected.lower() in str(raised.value).lower()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("min_version: 2024.6.0", "min_version: 2099.1.0", "Requires at least Home Assistant"),
        ("      default: 20\n", "      default: 500\n", "refused by its selector"),
        (
            "  name: Sample\n",
            "  name: Sample\n  source_url: https://x.org/b.yaml\n",
            "not this file",
        ),
    ],
    ids=["too-new", "default-out-of-range", "foreign-source-url"],
)
def test_blueprint_checks_catch_mistakes(tmp_path: Path, old: str, new: str, expected: str) -> None:
    """A blueprint this Home Assistant is too old for, a default its selector refuses, a
    source_url pointing elsewhere."""
    path = _write_blueprint(tmp_path, "broken.yaml", SAMPLE_BLUEPRINT.replace(old, new))
    problems = _blueprint_problems(_load_blueprint(path), path)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("trigger: numeric_state", "trigger: no_such_trigger", "Invalid trigger"),
        ("  - action: persistent_notification.create", "  - action: a b", "does not match"),
        ("actions:", "acts:", "at 'acts'"),
        ("below: !input below", "below: !input below\n    forr: 5", "at 'forr'"),
    ],
    ids=["unknown-trigger", "bad-action", "no-actions", "unknown-trigger-key"],
)
async def test_blueprint_automation_validation_catches_mistakes(
    hass: HomeAssistant, old: str, new: str, expected: str
) -> None:
    """The automation made from a broken blueprint is refused by Home Assistant's automation
    config validation."""
    text = SAMPLE_BLUEPRINT.replace(old, new)
    _write_blueprint(Path(hass.config.config_dir), "broken.yaml", text)
    with pytest.raises((vol.Invalid, HomeAssistantError), match=re.escape(expected)):
        await _validate_instance(
            hass, "automation", f"{DOMAIN}/broken.yaml", {"battery": "sensor.x"}
        )


async def test_blueprint_missing_input_caught(hass: HomeAssistant) -> None:
    """A required input left out is refused (BlueprintInputs.validate)."""
    _write_blueprint(Path(hass.config.config_dir), "sample.yaml", SAMPLE_BLUEPRINT)
    with pytest.raises(BlueprintException, match="Missing input battery"):
        await _validate_instance(hass, "automation", f"{DOMAIN}/sample.yaml", {})


def test_yaml_loader_reads_input_tags() -> None:
    """Home Assistant's YAML loader turns `!input` into Input (what substitution replaces), and
    the check for leftovers finds one."""
    data = parse_yaml("a: !input b\n")
    assert isinstance(data, dict)
    assert _contains_input(data)
    assert not _contains_input({"a": ["b"]})
