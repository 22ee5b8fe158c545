"""Rules compiled at start: which limits a request meets, and the store keys they count in."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import translate
from typing import Any

import orjson

from proxy_core import Principal

from .config import LimitsConfig, RuleConfig

NANO = 1_000_000_000  # budgets count nano-dollars: integers, exact sums

# Limit kinds as the store knows them; "day" and "month" are both budgets to a client.
RPM, TPM, CONCURRENCY, DAY, MONTH = "rpm", "tpm", "concurrency", "day", "month"


@dataclass(frozen=True, slots=True)
class Limit:
    kind: str
    limit: int  # requests, tokens, slots or nano-dollars
    key: str  # the store's base key for this limit's counters
    owner: str  # what refusals name: the rule (path and match values) or the key


@dataclass(frozen=True, slots=True)
class Rule:
    owner: str
    limits: tuple[Limit, ...]
    key: re.Pattern[str] | None
    user: re.Pattern[str] | None
    team: re.Pattern[str] | None
    model: re.Pattern[str] | None

    def matches(self, principal: Principal, models: tuple[str, ...]) -> bool:
        if self.key is not None and not self.key.match(principal.name):
            return False
        if self.user is not None and (principal.user is None or not self.user.match(principal.user)):
            return False
        if self.team is not None and not any(self.team.match(t) for t in principal.teams):
            return False
        return self.model is None or any(self.model.match(m) for m in models)


def _glob(pattern: str | None) -> re.Pattern[str] | None:
    return None if pattern is None else re.compile(translate(pattern))


def _limits(base: str, owner: str, spec: RuleConfig) -> tuple[Limit, ...]:
    out = []
    for kind, value in ((RPM, spec.rpm), (TPM, spec.tpm), (CONCURRENCY, spec.concurrency)):
        if value is not None:
            out.append(Limit(kind, value, f"{base}:{kind}", owner))
    budget = spec.budget_usd
    if budget is not None:
        for kind, usd in ((DAY, budget.day), (MONTH, budget.month)):
            if usd is not None:
                out.append(Limit(kind, round(usd * NANO), f"{base}:usd", owner))
    return tuple(out)


def compile_rules(config: LimitsConfig) -> list[Rule]:
    rules = []
    for i, spec in enumerate(config.rules):
        match = spec.match.model_dump(exclude_none=True)
        values = ", ".join(f"{k}={v}" for k, v in match.items()) or "every request"
        owner = f"plugins.limits.rules[{i}] ({values})"
        # The rule's position and match name its counters: editing a limit keeps them,
        # rules with the same match never share them.
        digest = hashlib.sha1(orjson.dumps(match, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]
        base = f"{config.key_prefix}rule:{i}:{digest}"
        m = spec.match
        rules.append(
            Rule(owner, _limits(base, owner, spec), _glob(m.key), _glob(m.user), _glob(m.team), _glob(m.model))
        )
    return [r for r in rules if r.limits]


_KEY_FIELDS = frozenset({RPM, TPM, CONCURRENCY, "budget_usd"})


def key_limits(config: LimitsConfig, principal: Principal) -> tuple[Limit, ...]:
    """A run-time key's own limits (``Principal.limits``: rpm, tpm, concurrency, budget_usd)."""
    own: Mapping[str, Any] | None = principal.limits
    if not own:
        return ()
    try:
        spec = RuleConfig.model_validate({k: v for k, v in own.items() if k in _KEY_FIELDS and v is not None})
    except ValueError:
        return ()  # the auth plugin validates these; never fail a request over them here
    return _limits(f"{config.key_prefix}key:{principal.name}", f"key '{principal.name}'", spec)
