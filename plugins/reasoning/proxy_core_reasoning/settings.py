"""The ``plugins.reasoning`` config section, validated once per gateway."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proxy_core import ConfigError, Gateway

NAME = "reasoning"
DEFAULT_RATIOS: dict[str, float] = {"none": 0.0, "low": 0.3, "medium": 0.6, "high": 0.9}
DEFAULT_MAX_TOKENS = 8192
MIN_BUDGET = 1024  # Anthropic's smallest thinking budget


@dataclass(frozen=True, slots=True)
class Settings:
    ratios: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATIOS))
    default_max_tokens: int = DEFAULT_MAX_TOKENS


def parse(section: dict[str, Any]) -> Settings:
    """``{ratios: {low: 0.3, ...}, default_max_tokens: 8192}``; ratios given are merged
    over the defaults. Errors name the config path."""
    problems: list[str] = []
    ratios = dict(DEFAULT_RATIOS)
    raw = section.get("ratios", {})
    if not isinstance(raw, dict):
        problems.append(f"plugins.{NAME}.ratios: must be a mapping of effort -> ratio")
        raw = {}
    for effort, ratio in raw.items():
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio < 1:
            problems.append(f"plugins.{NAME}.ratios.{effort}: must be a number from 0 up to (not including) 1")
        else:
            ratios[str(effort)] = float(ratio)
    default_max = section.get("default_max_tokens", DEFAULT_MAX_TOKENS)
    if isinstance(default_max, bool) or not isinstance(default_max, int) or default_max <= MIN_BUDGET:
        problems.append(f"plugins.{NAME}.default_max_tokens: must be an integer above {MIN_BUDGET}")
    if problems:
        raise ConfigError(problems)
    return Settings(ratios, default_max)


def settings(gateway: Gateway) -> Settings:
    cached = gateway.state.get(NAME)
    if not isinstance(cached, Settings):
        cached = gateway.state[NAME] = parse(gateway.config.plugin_section(NAME))
    return cached
