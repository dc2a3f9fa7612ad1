"""Placeholders in canned replies: `{customer}`, `{ticket}`, … replaced by the ticket's values. Plain text in,
plain text out (the page escapes it); an unknown or malformed placeholder is left as it is, never an error.
No Django here."""

from __future__ import annotations

import re
from collections.abc import Mapping

TOKEN = re.compile(r"\{([a-z_]{1,30})\}")
NAMES = ("customer", "contact", "account", "ticket", "subject", "agent")


def unknown(template: str) -> list[str]:
    """The placeholders of `template` that are not ones we fill (to warn whoever writes it)."""
    return sorted({m.group(1) for m in TOKEN.finditer(template)} - set(NAMES))


def fill(template: str, values: Mapping[str, str]) -> str:
    """`template` with each known placeholder replaced by its value (empty when the ticket has none)."""
    def replace(match: re.Match) -> str:
        name = match.group(1)
        return str(values.get(name) or "") if name in NAMES else match.group(0)

    return TOKEN.sub(replace, template)
