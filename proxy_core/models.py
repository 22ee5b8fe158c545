"""The shipped model table (``proxy_core/data/models.yaml``): capabilities as data.

Feature plugins read model capabilities (native structured output, how to think,
minimum cacheable prefix...) from ``Target.info``, never from the model's name. The
core builds ``Target.info`` as this table's entry for the model, overlaid key by key
with the account's per-model config entry, so config extends and overrides the table.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml

# Parts of a model id that do not change its capabilities: a provider prefix
# ("anthropic.", "us.anthropic.", "global.anthropic."), a version suffix ("-v1:0", "-v1"), a date
# ("-20250514", "-2024-08-06") and "-latest".
_PREFIX = re.compile(r"^(?:(?:[a-z]{2,4}|global|us-gov)\.)?anthropic\.")
_SUFFIX = re.compile(r"(?:-v\d+(?::\d+)?)?$")
_DATE = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2}|latest)$")


@cache
def model_table() -> dict[str, dict[str, Any]]:
    """The shipped table, loaded once: model id -> capabilities."""
    text = resources.files("proxy_core").joinpath("data/models.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError("proxy_core/data/models.yaml must map model ids to mappings")
    return {str(k): dict(v) for k, v in data.items()}


def canonical_id(model: str) -> str:
    """The table key a model id matches: prefix, version suffix and date removed."""
    name = _PREFIX.sub("", model.lower())
    name = _SUFFIX.sub("", name, count=1)
    return _DATE.sub("", name, count=1)


@cache
def shipped_info(model: str) -> dict[str, Any]:
    """The table's entry for ``model`` (exact id first, then its canonical id), or {}."""
    table = model_table()
    entry = table.get(model) or table.get(canonical_id(model)) or {}
    return dict(entry)


def model_info(model: str, configured: dict[str, Any] | None) -> dict[str, Any]:
    """``Target.info``: the shipped entry with the account's config entry winning key by key."""
    return {**shipped_info(model), **(configured or {})}
