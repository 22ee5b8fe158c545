"""The shipped price table, per-model overrides from config, and cost from usage.

Prices are USD per million tokens. ``prices.json`` (package data) names its sources
and the date they were read. A model's config entry overrides the table field by field:
``input_cost_per_mtok``, ``output_cost_per_mtok``, ``cache_write_5m_cost_per_mtok``
(alias ``cache_creation_cost_per_mtok``), ``cache_write_1h_cost_per_mtok`` and
``cache_read_cost_per_mtok``. A cache price that neither gives falls back to the input
price (never to zero, so nothing is under-billed by omission).

Usage is the canonical (OpenAI-named) dict. ``prompt_tokens`` counts every input token,
cached or not, as OpenAI does; cache reads are ``cache_read_input_tokens`` or else
``prompt_tokens_details.cached_tokens``; cache writes are
``cache_creation_input_tokens``, split into 5-minute and 1-hour writes by Anthropic's
``cache_creation: {ephemeral_5m_input_tokens, ephemeral_1h_input_tokens}`` when present
(else all 5-minute). When ``prompt_tokens`` is smaller than reads + writes, it is taken
to count only uncached input (Anthropic's own convention). Anthropic's own names
(``input_tokens``, ``output_tokens``: a native ``/v1/messages`` answer) are understood
too. Reasoning tokens are part of ``completion_tokens`` on both wires and are billed as
output.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

_PER_MTOK = 1_000_000
_DATE_SUFFIX = re.compile(r"[-@](\d{8}|latest)$")  # Vertex AI names Claude versions "model@date"
# A Bedrock inference-profile prefix (any vendor: "us.amazon.nova-pro") and "anthropic.".
_BEDROCK_PREFIX = re.compile(r"^(?:(?:us|eu|apac|global|jp|au|ca|us-gov)\.(?=[a-z0-9-]+\.))?(?:anthropic\.)?")
_BEDROCK_SUFFIX = re.compile(r"-v\d+(?::\d+)?$")

_OVERRIDES = {
    "input": ("input_cost_per_mtok",),
    "output": ("output_cost_per_mtok",),
    "cache_write_5m": ("cache_write_5m_cost_per_mtok", "cache_creation_cost_per_mtok"),
    "cache_write_1h": ("cache_write_1h_cost_per_mtok",),
    "cache_read": ("cache_read_cost_per_mtok",),
}


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float

    @classmethod
    def from_fields(cls, fields: dict[str, float]) -> Price:
        inp = float(fields["input"])
        return cls(
            input=inp,
            output=float(fields["output"]),
            cache_write_5m=float(fields.get("cache_write_5m", inp)),
            cache_write_1h=float(fields.get("cache_write_1h", fields.get("cache_write_5m", inp))),
            cache_read=float(fields.get("cache_read", inp)),
        )


@dataclass(frozen=True, slots=True)
class Tokens:
    """Usage split the way it is billed. ``input`` counts uncached input only."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    reasoning: int = 0

    @property
    def prompt_total(self) -> int:
        return self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h

    @property
    def cache_write(self) -> int:
        return self.cache_write_5m + self.cache_write_1h


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def split_usage(usage: dict[str, Any] | None) -> Tokens:
    if not usage:
        return Tokens()
    if "prompt_tokens" not in usage and ("input_tokens" in usage or "output_tokens" in usage):
        usage = _from_anthropic(usage)
    prompt = _int(usage.get("prompt_tokens"))
    details = usage.get("prompt_tokens_details")
    cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else 0
    read = _int(usage.get("cache_read_input_tokens")) or cached
    write = _int(usage.get("cache_creation_input_tokens"))
    breakdown = usage.get("cache_creation")
    w1h = _int(breakdown.get("ephemeral_1h_input_tokens")) if isinstance(breakdown, dict) else 0
    w1h = min(w1h, write)
    uncached = prompt - read - write if prompt >= read + write else prompt
    out_details = usage.get("completion_tokens_details")
    reasoning = _int(out_details.get("reasoning_tokens")) if isinstance(out_details, dict) else 0
    return Tokens(
        input=uncached,
        output=_int(usage.get("completion_tokens")),
        cache_read=read,
        cache_write_5m=write - w1h,
        cache_write_1h=w1h,
        reasoning=reasoning,
    )


def _from_anthropic(usage: dict[str, Any]) -> dict[str, Any]:
    """Anthropic's own usage names (a native ``/v1/messages`` answer) -> the OpenAI names."""
    read = _int(usage.get("cache_read_input_tokens"))
    write = _int(usage.get("cache_creation_input_tokens"))
    out = dict(usage)
    out["prompt_tokens"] = _int(usage.get("input_tokens")) + read + write
    out["completion_tokens"] = _int(usage.get("output_tokens"))
    details = usage.get("output_tokens_details")
    if isinstance(details, dict):
        out["completion_tokens_details"] = {"reasoning_tokens": _int(details.get("thinking_tokens"))}
    return out


def cost_usd(tokens: Tokens, price: Price) -> float:
    micro = (
        tokens.input * price.input
        + tokens.output * price.output
        + tokens.cache_read * price.cache_read
        + tokens.cache_write_5m * price.cache_write_5m
        + tokens.cache_write_1h * price.cache_write_1h
    )
    return round(micro / _PER_MTOK, 10)


def normalize(model: str) -> list[str]:
    """Names to try for a model id: as given, then without vendor prefixes and date suffixes."""
    names = [model]
    bare = model.rsplit("/", 1)[-1]
    bare = _BEDROCK_PREFIX.sub("", bare)
    bare = _BEDROCK_SUFFIX.sub("", bare)
    names.append(bare)
    undated = _DATE_SUFFIX.sub("", bare)
    names.append(undated)
    return names


class PriceTable:
    """Model name -> Price, with per-model config overrides. Lookups are cached."""

    def __init__(self, models: dict[str, dict[str, float]], sources: dict[str, str] | None = None) -> None:
        self.models = models
        self.sources = sources or {}
        # (model, id(info)) -> (info, price): holding ``info`` keeps its id from being reused
        # by a later settings dict (models change at run time), so a hit is always current.
        self._cache: dict[tuple[str, int], tuple[Any, Price | None]] = {}

    @classmethod
    def shipped(cls) -> PriceTable:
        data = json.loads(resources.files(__package__).joinpath("prices.json").read_text())
        return cls(data["models"], data.get("sources"))

    def base(self, model: str) -> dict[str, float] | None:
        for name in normalize(model):
            if name in self.models:
                return self.models[name]
        return None

    def price(self, model: str, info: dict[str, Any] | None = None) -> Price | None:
        """The price for ``model`` with the overrides in its config entry; None when unknown."""
        key = (model, id(info) if info else 0)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is info:
            return hit[1]
        fields: dict[str, float] = dict(self.base(model) or {})
        for field, names in _OVERRIDES.items():
            for name in names:
                value = (info or {}).get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    fields[field] = float(value)
                    break
        price = Price.from_fields(fields) if "input" in fields and "output" in fields else None
        self._cache[key] = (info, price)
        return price
