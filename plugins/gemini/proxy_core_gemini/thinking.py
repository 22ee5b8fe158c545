"""``reasoning_effort`` -> ``generationConfig.thinkingConfig``, from the model's info.

The reasoning plugin passes ``reasoning_effort`` through to models whose info says
``reasoning_effort: true``; this module turns it into Gemini's parameters, using the
model table's data, never the model's name:

* ``thinking_levels: [...]`` (Gemini 3): ``thinkingLevel`` = the effort when the model
  has that level, else the next level up (the highest when none is higher); ``none``
  is the lowest level (Gemini 3 cannot switch thinking off).
* otherwise ``thinkingBudget`` = ratio x max_tokens (the reasoning plugin's ratios:
  low 0.3, medium 0.6, high 0.9 by default), kept within ``thinking_budget: [min, max]``;
  ``none`` is a budget of 0 where ``thinking_off: true``, else the model's minimum.

``includeThoughts: true`` whenever the client asked for an effort other than ``none``,
so thought summaries come back as ``reasoning_content``.
"""

from __future__ import annotations

from typing import Any

from proxy_core import Gateway
from proxy_core.errors import InvalidRequestError

DEFAULT_RATIOS: dict[str, float] = {"none": 0.0, "low": 0.3, "medium": 0.6, "high": 0.9}
DEFAULT_MAX_TOKENS = 8192
LEVEL_ORDER = ("minimal", "low", "medium", "high")


def ratios_and_default(gateway: Gateway) -> tuple[dict[str, float], int]:
    """The reasoning plugin's ratios and default max_tokens when it is installed (the same
    ratios on every provider), else its defaults."""
    try:
        from proxy_core_reasoning.settings import settings
    except ImportError:
        return DEFAULT_RATIOS, DEFAULT_MAX_TOKENS
    s = settings(gateway)
    return s.ratios, s.default_max_tokens


def thinking_config(
    effort: Any, body: dict[str, Any], info: dict[str, Any], ratios: dict[str, float], default_max: int
) -> dict[str, Any]:
    if not isinstance(effort, str):
        raise InvalidRequestError(
            "'reasoning_effort' must be a string (none, low, medium or high)", param="reasoning_effort"
        )
    levels = info.get("thinking_levels")
    if isinstance(levels, list) and levels:
        return _level(effort, [str(x) for x in levels])
    if effort not in ratios:
        raise InvalidRequestError(
            f"'reasoning_effort' must be one of {', '.join(ratios)} for this model", param="reasoning_effort"
        )
    low, high = _budget_range(info)
    if ratios[effort] == 0:
        off = 0 if info.get("thinking_off") is True or low is None else low
        return {"thinkingBudget": off}
    budget = int(ratios[effort] * _max_tokens(body, info, default_max))
    if low is not None:
        budget = max(low, budget)
    if high is not None:
        budget = min(high, budget)
    return {"thinkingBudget": budget, "includeThoughts": True}


def _level(effort: str, levels: list[str]) -> dict[str, Any]:
    if effort == "none":
        return {"thinkingLevel": levels[0]}
    if effort in levels:
        return {"thinkingLevel": effort, "includeThoughts": True}
    if effort not in LEVEL_ORDER:
        raise InvalidRequestError(
            f"'reasoning_effort' must be one of none, {', '.join(levels)} for this model", param="reasoning_effort"
        )
    rank = LEVEL_ORDER.index(effort)
    higher = [lv for lv in levels if lv in LEVEL_ORDER and LEVEL_ORDER.index(lv) > rank]
    return {"thinkingLevel": higher[0] if higher else levels[-1], "includeThoughts": True}


def _budget_range(info: dict[str, Any]) -> tuple[int | None, int | None]:
    span = info.get("thinking_budget")
    if isinstance(span, list) and len(span) == 2 and all(isinstance(x, int) for x in span):
        return span[0], span[1]
    return None, None


def _max_tokens(body: dict[str, Any], info: dict[str, Any], default_max: int) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    configured = info.get("max_tokens")
    return configured if isinstance(configured, int) and configured > 0 else default_max
