"""Which model family a Bedrock model id belongs to: it decides the native fields.

A Bedrock model id is ``[profile.]vendor.model[-version]`` (``anthropic.claude-sonnet-4-5-
20250929-v1:0``, ``us.amazon.nova-pro-v1:0``, ``global.anthropic.claude-...``); the
vendor names the wire dialect behind Converse (Claude's ``thinking`` and ``top_k`` go in
``additionalModelRequestFields``; Amazon's models take no cache point on tools). ARNs of
application inference profiles name no vendor: set ``bedrock_family`` in the model's
config entry (``{bedrock_family: anthropic}``).
"""

from __future__ import annotations

from typing import Any

# Cross-region inference-profile prefixes (geography) that come before the vendor.
PROFILE_PREFIXES = frozenset({"us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"})
ANTHROPIC = "anthropic"
AMAZON = "amazon"


def family(model: str, info: dict[str, Any]) -> str:
    """The vendor of ``model`` (``anthropic``, ``amazon``, ``meta``...), or ``""``."""
    configured = info.get("bedrock_family")
    if isinstance(configured, str) and configured:
        return configured
    parts = model.split(".")
    if len(parts) > 2 and parts[0] in PROFILE_PREFIXES:
        parts = parts[1:]
    return parts[0] if len(parts) > 1 else ""


def anthropic_id(model: str) -> str:
    """A Claude model's first-party name (``claude-sonnet-4-5-20250929``), for defaults
    keyed by that name; other ids unchanged."""
    name = model.split("/")[-1]
    parts = name.split(".")
    if ANTHROPIC in parts[:2]:
        name = ".".join(parts[parts.index(ANTHROPIC) + 1 :])
    return name.rsplit("-v", 1)[0] if "-v" in name else name
