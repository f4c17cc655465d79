"""Checking YAML/JSON documents against the JSON Schemas shipped in `emay_mock/schemas/`.

One schema serves two readers: editors (point a YAML plugin at the file) and this
module, which turns each violation into `line: key: problem`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from emay_mock import yamlfile
from emay_mock.control_auth import FORMAT

SECRET_FIELDS = ("secretKey",)


@cache
def schema(name: str) -> dict[str, Any]:
    text = resources.files("emay_mock").joinpath("schemas", name).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def message(error: Any, path: yamlfile.Path) -> str:
    if path and path[-1] in SECRET_FIELDS:
        return "must be a string of 16, 24 or 32 bytes"  # never echo a key
    if path and path[-1] == "controlAuth":
        return f"must be {FORMAT}"  # never echo it: it holds a password
    if error.validator == "pattern" and path and path[-1] == "appId":
        return "must not be empty or contain spaces"
    if error.validator == "oneOf":
        return f"{_short(error.instance)} is not any of the allowed forms (see the schema)"
    return str(error.message)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _wants_string(error: Any) -> bool:
    expected = error.validator_value
    if error.validator != "type":
        return False
    return expected == "string" or (isinstance(expected, list) and "string" in expected)


def _unquoted(error: Any, located: yamlfile.Located) -> list[yamlfile.Path]:
    """Where, in this error or the alternatives a oneOf tried, text was expected and YAML read
    an unquoted number or boolean instead (`prefix: 139`)."""
    found: list[yamlfile.Path] = []
    pending = [error]
    while pending:
        current = pending.pop()
        path: yamlfile.Path = tuple(current.absolute_path)
        if _wants_string(current) and path in located.unquoted and path not in found:
            found.append(path)
        pending.extend(current.context or ())
    return sorted(found, key=str)


def quote_it(path: yamlfile.Path, written: str, value: Any) -> str:
    """The problem of an unquoted `written` that YAML read as `value`, and the fix."""
    kind = str(value).lower() if isinstance(value, bool) else "a number"
    key = path[-1] if path else None
    if key in SECRET_FIELDS:  # never echo a key
        return f"must be a string of 16, 24 or 32 bytes: YAML reads it as {kind}; put it in quotes"
    fixed = f"{key}: '{written}'" if isinstance(key, str) else f"- '{written}'"
    shown = "" if isinstance(value, bool) or str(value) == written else f" ({value})"
    return f"{written} is read by YAML as {kind}{shown}, not text; quote it: {fixed}"


def _value(data: Any, path: yamlfile.Path) -> Any:
    for part in path:
        data = data[part]
    return data


def problems(data: Any, schema_doc: dict[str, Any], located: yamlfile.Located) -> list[tuple[int, str]]:
    """Schema violations as (line, `key: problem`); unknown keys are pointed at exactly, and an
    unquoted number where text belongs is shown with its quotes."""
    validator = Draft202012Validator(schema_doc)
    found: list[tuple[int, str]] = []
    for error in validator.iter_errors(data):
        path: yamlfile.Path = tuple(error.absolute_path)
        unquoted = _unquoted(error, located) if error.validator in ("type", "oneOf", "anyOf") else []
        if unquoted:
            found += [
                (
                    located.line(where),
                    f"{yamlfile.dotted(where)}: "
                    f"{quote_it(where, located.unquoted[where], _value(data, where))}",
                )
                for where in unquoted
            ]
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - allowed):
                where = (*path, key)
                known = ", ".join(sorted(allowed))
                found.append(
                    (located.line(where), f"{yamlfile.dotted(where)}: unknown key (known keys: {known})")
                )
            continue
        found.append((located.line(path), f"{yamlfile.dotted(path)}: {message(error, path)}"))
    return found
