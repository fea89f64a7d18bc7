"""Translations: every language has exactly en.json's keys and placeholders.

``translations/en.json`` mirrors ``strings.json`` with Home Assistant's common
``[%key:...]`` references resolved; every other language must carry the same
keys and, message by message, the same ``{placeholders}``.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest

INTEGRATION_DIR = Path(__file__).parents[3] / "custom_components" / "smartcar"
TRANSLATIONS_DIR = INTEGRATION_DIR / "translations"

# Languages the integration promises (issue 13); any further file is checked too.
REQUIRED_LANGUAGES = ("de", "fr", "nb", "nl")
LANGUAGES = sorted({path.stem for path in TRANSLATIONS_DIR.glob("*.json")} - {"en"})

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
REFERENCE = re.compile(r"^\[%key:[a-z0-9_:]+%\]$")


def _load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Map ``a.b.c`` keys to their messages; fail on anything but nested strings."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            assert isinstance(value, str), f"{path} is not a string: {value!r}"
            flat[path] = value
    return flat


def _placeholders(message: str) -> set[str]:
    return set(PLACEHOLDER.findall(message))


def _compare_keys(name: str, reference: dict[str, str], other: dict[str, str]) -> list[str]:
    missing = sorted(reference.keys() - other.keys())
    extra = sorted(other.keys() - reference.keys())
    return [f"{name}: missing {key}" for key in missing] + [f"{name}: extra {key}" for key in extra]


def test_required_languages_present() -> None:
    """German, Dutch, French and Norwegian Bokmål ship next to English."""
    assert (TRANSLATIONS_DIR / "en.json").is_file()
    missing = [lang for lang in REQUIRED_LANGUAGES if lang not in LANGUAGES]
    assert not missing, f"missing translations: {missing}"


def test_en_mirrors_strings() -> None:
    """en.json has strings.json's keys and texts, with common references resolved."""
    strings = _flatten(_load(INTEGRATION_DIR / "strings.json"))
    english = _flatten(_load(TRANSLATIONS_DIR / "en.json"))

    problems = _compare_keys("en.json vs strings.json", strings, english)
    for key in sorted(strings.keys() & english.keys()):
        source, resolved = strings[key], english[key]
        assert not REFERENCE.match(resolved), f"en.json {key} is an unresolved reference"
        if REFERENCE.match(source):
            continue  # a [%key:...] reference resolves to Home Assistant's common text
        if source != resolved:
            problems.append(f"en.json {key}: {resolved!r} != strings.json {source!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_complete(language: str) -> None:
    """Same keys as en.json, same placeholders per message, no empty or raw text."""
    english = _flatten(_load(TRANSLATIONS_DIR / "en.json"))
    translated = _flatten(_load(TRANSLATIONS_DIR / f"{language}.json"))

    problems = _compare_keys(f"{language}.json", english, translated)
    for key in sorted(english.keys() & translated.keys()):
        message = translated[key]
        if not message.strip():
            problems.append(f"{language}.json {key}: empty")
        if REFERENCE.match(message):
            problems.append(f"{language}.json {key}: unresolved reference {message}")
        expected, found = _placeholders(english[key]), _placeholders(message)
        if expected != found:
            problems.append(
                f"{language}.json {key}: placeholders {sorted(found)} != en {sorted(expected)}"
            )
    assert not problems, "\n".join(problems)


def test_placeholder_check_catches_mismatch() -> None:
    """The checks above really fail on a missing key or a renamed placeholder."""
    english = {"a": "Hello {vehicle}", "b": "Bye"}
    assert _compare_keys("x", english, {"a": "Hallo {vehicle}"}) == ["x: missing b"]
    assert _compare_keys("x", english, {**english, "c": "extra"}) == ["x: extra c"]
    assert _placeholders("Hallo {fahrzeug}") != _placeholders(english["a"])
    assert _placeholders("[link]({docs_url}) {until}") == {"docs_url", "until"}
