"""Template placeholders as real clients write them: {#name#} and ${name}."""

from __future__ import annotations

import re

from emay_mock.protocol import diagnose
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError

PLACEHOLDER = re.compile(r"\{#([^#{}]+)#\}|\$\{([^{}]+)\}")
SHORT_LINK = "{#短网址#}"


def variables(template: str) -> list[str]:
    """The variable names a template uses, in order of first appearance."""
    names: list[str] = []
    for match in PLACEHOLDER.finditer(template):
        name = (match.group(1) or match.group(2)).strip()
        if name not in names:
            names.append(name)
    return names


def render(template: str, values: dict[str, str] | None, where: str) -> str:
    """Fill every placeholder; ERROR_PARAMS naming the first variable with no value.

    `values` is None for a send that carries no variables at all (sendTemplateNormalSMS).
    """
    given = values or {}

    def fill(match: re.Match[str]) -> str:
        name = (match.group(1) or match.group(2)).strip()
        if name not in given:
            raise EmayError(
                ResultCode.ERROR_PARAMS,
                f"{where} has no value for template variable {name!r}",
                field=where,
                diagnosis=diagnose.VARIABLE_TEMPLATE if values is None else None,
                expected=variables(template),
                got=sorted(given),
            )
        return given[name]

    return PLACEHOLDER.sub(fill, template)
