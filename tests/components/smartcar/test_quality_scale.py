"""quality_scale.yaml: every rule of the Integration Quality Scale, each with a valid status.

The rule list below is ALL_RULES of home-assistant/core ``script/hassfest/quality_scale.py``
(not shipped in the homeassistant wheel), cross-checked against Home Assistant 2026.10.4:
every ``quality_scale.yaml`` shipped in ``homeassistant/components/`` lists exactly these rules.
The accepted shapes are those of hassfest's SCHEMA: ``rule: done|todo``, or a mapping with
``status`` and ``comment``; ``exempt`` only as a mapping, with a reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import homeassistant.components
from homeassistant.util.yaml import load_yaml_dict
import pytest

QUALITY_SCALE = Path(__file__).parents[3] / "custom_components" / "smartcar" / "quality_scale.yaml"
README = Path(__file__).parents[3] / "README.md"

BRONZE = (
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow",
    "config-flow-test-coverage",
    "dependency-transparency",
    "docs-actions",
    "docs-conditions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "docs-triggers",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
)
SILVER = (
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
)
GOLD = (
    "devices",
    "diagnostics",
    "discovery",
    "discovery-update-info",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
)
PLATINUM = ("async-dependency", "inject-websession", "strict-typing")
ALL_RULES = BRONZE + SILVER + GOLD + PLATINUM

STATUSES = ("done", "todo", "exempt")


def _rules() -> dict[str, Any]:
    # Home Assistant's YAML loader (PyYAML), as hassfest reads the file.
    data = load_yaml_dict(QUALITY_SCALE)
    assert set(data) == {"rules"}, f"unexpected top-level keys: {sorted(data)}"
    rules = data["rules"]
    assert isinstance(rules, dict), "rules is not a mapping"
    return rules


def _problems(rules: dict[str, Any]) -> list[str]:
    """Everything hassfest (and this project) would refuse in a rules mapping."""
    problems = [f"missing rule {name}" for name in ALL_RULES if name not in rules]
    problems += [f"unknown rule {name}" for name in rules if name not in ALL_RULES]
    for name, value in rules.items():
        if isinstance(value, str):
            if value not in ("done", "todo"):
                problems.append(f"{name}: invalid status {value!r} (exempt needs a comment)")
            continue
        if not isinstance(value, dict) or set(value) != {"status", "comment"}:
            problems.append(f"{name}: must be a status or a mapping of status and comment")
            continue
        if value["status"] not in STATUSES:
            problems.append(f"{name}: invalid status {value['status']!r}")
        comment = value["comment"]
        if not isinstance(comment, str) or not comment.strip():
            problems.append(f"{name}: empty comment")
    return problems


def test_rule_list() -> None:
    """The kept list has the 54 rules of hassfest, none twice."""
    assert len(ALL_RULES) == len(set(ALL_RULES)) == 54
    assert (len(BRONZE), len(SILVER), len(GOLD), len(PLATINUM)) == (20, 10, 21, 3)


def test_every_rule_has_a_valid_status() -> None:
    """Every rule present, none unknown, each done, todo or exempt with a reason."""
    problems = _problems(_rules())
    assert not problems, "\n".join(problems)


def test_rules_in_installed_home_assistant() -> None:
    """Home Assistant's own quality_scale.yaml files list exactly these rules."""
    components = Path(homeassistant.components.__path__[0])
    files = sorted(components.glob("*/quality_scale.yaml"))
    if not files:
        pytest.skip("this Home Assistant build ships no quality_scale.yaml")
    for path in files:
        rules = load_yaml_dict(path)["rules"]
        assert set(rules) == set(ALL_RULES), path


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({}, "missing rule action-setup"),
        ({"no-such-rule": "done"}, "unknown rule no-such-rule"),
        ({"brands": "exempt"}, "brands: invalid status 'exempt' (exempt needs a comment)"),
        ({"brands": {"status": "exempt"}}, "brands: must be a status or a mapping"),
        ({"brands": {"status": "finished", "comment": "x"}}, "brands: invalid status"),
        ({"brands": {"status": "exempt", "comment": " "}}, "brands: empty comment"),
    ],
)
def test_checks_catch_mistakes(rules: dict[str, Any], expected: str) -> None:
    """The checks above fail on a missing, unknown, invalid or unexplained rule."""
    assert any(problem.startswith(expected) for problem in _problems(rules))


def _status(value: Any) -> str:
    return str(value if isinstance(value, str) else value["status"])


def test_platinum_nothing_left_to_do() -> None:
    """Platinum, as README.md's badge says: no rule of any tier is still `todo`."""
    todo = [name for name, value in _rules().items() if _status(value) == "todo"]
    assert todo == []
    assert "quality%20scale-platinum" in README.read_text()
    assert "(custom_components/smartcar/quality_scale.yaml)" in README.read_text()


def test_nothing_left_to_do_catches_a_todo() -> None:
    """The check above would see a rule put back to `todo`."""
    rules = {**_rules(), "dynamic-devices": "todo"}
    assert [name for name, value in rules.items() if _status(value) == "todo"] == [
        "dynamic-devices"
    ]
