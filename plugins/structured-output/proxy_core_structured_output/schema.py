"""JSON-schema checks and clean-up: strict mode's required rule, Anthropic's limits.

Walks schemas structurally (``properties`` maps names to schemas, so a property called
``minimum`` is never mistaken for the keyword).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Keywords Anthropic's structured outputs reject (numeric, string, array and object size
# constraints); removed from schemas sent to Anthropic-wire targets.
UNSUPPORTED = frozenset(
    {
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    }
)
_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else")
_MANY = ("anyOf", "allOf", "oneOf", "prefixItems")


def _children(schema: dict[str, Any], path: str) -> Iterator[tuple[dict[str, Any], str]]:
    for key in _MAPS:
        mapping = schema.get(key)
        if isinstance(mapping, dict):
            for name, sub in mapping.items():
                if isinstance(sub, dict):
                    yield sub, f"{path}/{key}/{name}"
    for key in _ONE:
        sub = schema.get(key)
        if isinstance(sub, dict):
            yield sub, f"{path}/{key}"
    for key in _MANY:
        subs = schema.get(key)
        if isinstance(subs, list):
            for i, sub in enumerate(subs):
                if isinstance(sub, dict):
                    yield sub, f"{path}/{key}/{i}"


def strict_missing(schema: dict[str, Any], path: str = "") -> list[str]:
    """Properties not listed in their object's ``required`` (dotted names), recursively."""
    missing: list[str] = []
    props = schema.get("properties")
    if isinstance(props, dict):
        required = schema.get("required")
        listed = {r for r in required if isinstance(r, str)} if isinstance(required, list) else set()
        prefix = _dotted(path)
        missing += [prefix + name for name in props if name not in listed]
    for sub, sub_path in _children(schema, path):
        missing += strict_missing(sub, sub_path)
    return missing


def _dotted(path: str) -> str:
    """``/properties/address/items`` -> ``address.`` (property names only)."""
    parts = path.split("/")
    names = [parts[i + 1] for i, p in enumerate(parts[:-1]) if p == "properties"]
    return "".join(n + "." for n in names)


def anthropic_schema(schema: dict[str, Any], *, native: bool) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``schema`` Anthropic accepts, and the JSON pointers of what was removed.

    Removed: :data:`UNSUPPORTED` keywords and ``minItems`` above 1. Native structured
    output also needs ``additionalProperties: false`` on every object: added where
    absent, and a ``true`` or schema value is replaced (and reported).
    """
    removed: list[str] = []
    return _clean(schema, "", native, removed), removed


def _clean(schema: dict[str, Any], path: str, native: bool, removed: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in UNSUPPORTED or (key == "minItems" and isinstance(value, int) and value > 1):
            removed.append(f"{path}/{key}")
        elif key in _MAPS and isinstance(value, dict):
            out[key] = {
                k: _clean(v, f"{path}/{key}/{k}", native, removed) if isinstance(v, dict) else v
                for k, v in value.items()
            }
        elif key in _ONE and isinstance(value, dict):
            if native and key == "additionalProperties":
                removed.append(f"{path}/{key}")
                out[key] = False
            else:
                out[key] = _clean(value, f"{path}/{key}", native, removed)
        elif key in _MANY and isinstance(value, list):
            out[key] = [
                _clean(v, f"{path}/{key}/{i}", native, removed) if isinstance(v, dict) else v
                for i, v in enumerate(value)
            ]
        elif native and key == "additionalProperties" and value is not False:
            removed.append(f"{path}/{key}")
            out[key] = False
        else:
            out[key] = value
    if native and (out.get("type") == "object" or "properties" in out) and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out
