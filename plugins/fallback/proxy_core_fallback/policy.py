"""The fallback policy: gateway-wide defaults in ``plugins.fallback``, per-route overrides.

```yaml
plugins:
  fallback:
    retry: {attempts: 2, backoff_ms: 250, max_backoff_ms: 4000, retry_after_cap_s: 10,
            on_status: [429, 500, 502, 503, 529]}
    fallback_on: [401, 403, 404, 429, 500, 502, 503, 529, timeout, connect_error]
    timeouts: {connect: 5, first_token: 30, idle: 60, total: 600}   # default: none, the account's apply
    health: {failures: 5, window_s: 30, cooldown_s: 30}
    retry_budget: {ratio: 0.2, min_per_s: 10}
    client_first_token_timeout: {allow: false, keys: null, min_s: 1}   # the request header
routes:
  claude-default:
    targets: [anthropic-main/claude-sonnet-4-5, aws-claude/claude-sonnet-4-5]
    retry: {attempts: 1}          # any of retry / fallback_on / timeouts, merged over the defaults
    timeouts: {first_token: 15}
```

``attempts`` counts tries of one target (1 = no retry). Timeouts are seconds; ``null``
switches one off.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from proxy_core.config import ConfigError, format_validation_error

FallbackReason = int | Literal["timeout", "connect_error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retry(_Model):
    attempts: int = Field(2, ge=1, le=10)
    backoff_ms: float = Field(250, ge=0)
    max_backoff_ms: float = Field(4000, ge=0)
    retry_after_cap_s: float = Field(10, ge=0)
    on_status: frozenset[int] = frozenset({429, 500, 502, 503, 529})
    on_timeout: bool = True
    on_connect_error: bool = True


class Timeouts(_Model):
    """Unset (None) limits leave the account's own ``timeout`` settings in charge."""

    connect: float | None = Field(None, gt=0)
    first_token: float | None = Field(None, gt=0)
    idle: float | None = Field(None, gt=0)
    total: float | None = Field(None, gt=0)


class Health(_Model):
    failures: int = Field(5, ge=1)
    window_s: float = Field(30, gt=0)
    cooldown_s: float = Field(30, ge=0)


class RetryBudget(_Model):
    ratio: float = Field(0.2, ge=0)  # retries allowed per request, on average
    min_per_s: float = Field(10, ge=0)  # plus this many per second regardless of traffic


DEFAULT_FALLBACK_ON: frozenset[FallbackReason] = frozenset(
    {401, 403, 404, 429, 500, 502, 503, 529, "timeout", "connect_error"}
)


class ClientFirstTokenTimeout(_Model):
    """Who may tighten the first-token limit with ``x-proxy-core-first-token-timeout``.

    Off by default (the header is ignored). ``keys``: the gateway key names allowed
    (None = every key). A value below ``min_s`` is raised to it; the operator's limit is
    never loosened. Attempts that hit the client's limit end the request with a 504 and
    touch no shared state (passive health, retry budget).
    """

    allow: bool = False
    keys: frozenset[str] | None = None
    min_s: float = Field(1.0, ge=0)


class Policy(_Model):
    retry: Retry = Retry()
    fallback_on: frozenset[FallbackReason] = DEFAULT_FALLBACK_ON
    timeouts: Timeouts = Timeouts()


class Settings(Policy):
    health: Health = Health()
    retry_budget: RetryBudget = RetryBudget()
    client_first_token_timeout: ClientFirstTokenTimeout = ClientFirstTokenTimeout()


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def build(section: dict[str, Any], routes: dict[str, dict[str, Any]]) -> tuple[Settings, dict[str, Policy]]:
    """The validated defaults and one merged policy per route alias that overrides any."""
    try:
        settings = Settings.model_validate(section)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, "plugins.fallback")) from None
    defaults = settings.model_dump(include={"retry", "fallback_on", "timeouts"})
    per_route: dict[str, Policy] = {}
    problems: list[str] = []
    for alias, extra in routes.items():
        override = {k: v for k, v in extra.items() if k in ("retry", "fallback_on", "timeouts")}
        if not override:
            continue
        try:
            per_route[alias] = Policy.model_validate(_merge(defaults, override))
        except ValidationError as e:
            problems.extend(format_validation_error(e, f"routes.{alias}"))
    if problems:
        raise ConfigError(problems)
    return settings, per_route
