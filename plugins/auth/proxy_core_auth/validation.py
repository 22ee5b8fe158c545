"""What the admin API and the CLI accept: a new run-time key, and one model's settings.

Both raise ``InvalidRequestError`` (400) whose ``param`` and message name the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from proxy_core.errors import InvalidRequestError

# Key names appear in URLs (DELETE /admin/keys/{name}), logs and limit refusals.
KEY_NAME = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
_MODEL_NAME = re.compile(r"^[^\s\x00-\x1f\x7f]{1,256}$")
MAX_MODEL_SETTINGS = 64  # keys per model entry; config entries are a handful

_Name = Annotated[str, Field(min_length=1, max_length=256)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Budget(_Body):
    """USD per UTC day / month; None = no budget for that period."""

    day: float | None = Field(None, ge=0)
    month: float | None = Field(None, ge=0)


class NewKey(_Body):
    """``POST /admin/keys``: a run-time key (never an admin key)."""

    name: str = Field(pattern=KEY_NAME)
    user: _Name | None = None
    teams: list[_Name] = Field(default=[], max_length=256)
    models: list[_Name] | None = Field(None, max_length=1024)  # glob allow-list; None = every model
    rpm: int | None = Field(None, ge=0)
    tpm: int | None = Field(None, ge=0)
    budget_usd: Budget | None = None


def limits_of(rpm: int | None, tpm: int | None, day: float | None, month: float | None) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    if rpm is not None:
        out["rpm"] = rpm
    if tpm is not None:
        out["tpm"] = tpm
    budget = {k: v for k, v in (("day", day), ("month", month)) if v is not None}
    if budget:
        out["budget_usd"] = budget
    return out or None


def _first_error(err: ValidationError) -> InvalidRequestError:
    e = err.errors(include_input=False, include_url=False)[0]
    field = ".".join(str(p) for p in e["loc"]) or "(body)"
    if e["type"] == "extra_forbidden":
        return InvalidRequestError(f"unknown field '{field}'", param=field)
    if e["type"] == "missing":
        return InvalidRequestError(f"'{field}' is required", param=field)
    if e["type"] == "string_pattern_mismatch" and field == "name":
        message = "'name' must be 1-128 letters, digits or . _ : @ - (starting with a letter or digit)"
        return InvalidRequestError(message, param=field)
    return InvalidRequestError(f"'{field}': {e['msg']}", param=field)


def parse_new_key(body: Any, taken: Collection[str] = ()) -> NewKey:
    """A validated new key; ``taken`` are names already in use (static config keys)."""
    if not isinstance(body, dict):
        raise InvalidRequestError("the body must be a JSON object", param="(body)")
    try:
        key = NewKey.model_validate(body)
    except ValidationError as e:
        raise _first_error(e) from None
    if key.name in taken:
        raise InvalidRequestError(f"a key named '{key.name}' already exists", param="name", code="duplicate_name")
    return key


# --- one model's settings ------------------------------------------------------------------

# Fields whose type the gateway relies on (prices: the cost plugin; the rest: the shipped
# model table's keys). Other keys pass through as in config (provider plugins read their own).
PRICE_FIELDS = (
    "input_cost_per_mtok",
    "output_cost_per_mtok",
    "cache_write_5m_cost_per_mtok",
    "cache_creation_cost_per_mtok",
    "cache_write_1h_cost_per_mtok",
    "cache_read_cost_per_mtok",
)
_BOOL_FIELDS = ("native_structured_output", "reasoning_effort")
_COUNT_FIELDS = {"max_tokens": 1, "min_cache_tokens": 0}
_THINKING = ("budget", "adaptive", "effort", "none")


def check_model_name(model: str) -> None:
    if not _MODEL_NAME.match(model):
        raise InvalidRequestError("the model name must be 1-256 characters without spaces", param="model")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_model_settings(settings: Any) -> dict[str, Any]:
    """A model's settings as in ``providers.<account>.models.<model>`` (prices included)."""
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise InvalidRequestError("the body must be a JSON object of the model's settings", param="(body)")
    if len(settings) > MAX_MODEL_SETTINGS:
        raise InvalidRequestError(f"at most {MAX_MODEL_SETTINGS} settings per model", param="(body)")
    for field, value in settings.items():
        if field in PRICE_FIELDS and not (_number(value) and value >= 0):
            raise InvalidRequestError(f"'{field}' must be a non-negative number (USD per million tokens)", param=field)
        if field in _BOOL_FIELDS and not isinstance(value, bool):
            raise InvalidRequestError(f"'{field}' must be true or false", param=field)
        if field in _COUNT_FIELDS and not (
            isinstance(value, int) and not isinstance(value, bool) and value >= _COUNT_FIELDS[field]
        ):
            raise InvalidRequestError(f"'{field}' must be an integer >= {_COUNT_FIELDS[field]}", param=field)
        if field == "thinking" and value not in _THINKING:
            raise InvalidRequestError(f"'thinking' must be one of: {', '.join(_THINKING)}", param=field)
    return dict(settings)
