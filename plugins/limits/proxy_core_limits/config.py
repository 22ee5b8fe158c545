"""``plugins.limits``: the contract's shape, validated at start with errors naming the path."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from proxy_core.config import ConfigError, format_validation_error

SECTION = "plugins.limits"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Strict):
    """Globs (fnmatch, case-sensitive); every field given must match, absent ones match all."""

    key: str | None = None  # the gateway key's name
    user: str | None = None
    team: str | None = None  # matches if any of the caller's teams does
    model: str | None = None  # the requested name, the route alias or any target's account/model


class BudgetConfig(_Strict):
    day: float | None = Field(None, ge=0)  # USD per UTC day
    month: float | None = Field(None, ge=0)  # USD per UTC calendar month


class RuleConfig(_Strict):
    match: Match = Match()
    rpm: int | None = Field(None, ge=0)
    tpm: int | None = Field(None, ge=0)
    concurrency: int | None = Field(None, ge=0)
    budget_usd: BudgetConfig | None = None


class LimitsConfig(_Strict):
    redis: str | None = None  # redis://host:port/db (rediss:// for TLS); None: this process only
    on_store_error: Literal["allow", "deny"] = "allow"
    rules: list[RuleConfig] = []
    # Output tokens reserved when a request gives no max_tokens and its model's info
    # has no max_output_tokens.
    default_output_tokens: int = Field(4096, ge=1)
    # A concurrency slot is a lease renewed while its request runs: a replica that dies
    # stops renewing and its slots come back after at most this long.
    concurrency_lease_s: float = Field(30.0, gt=0)
    # Deadline of one Redis call (connect and reply); past it the store counts as down.
    store_timeout_s: float = Field(0.5, gt=0)
    # While the store is down, one warning per this many seconds.
    warn_interval_s: float = Field(60.0, gt=0)
    key_prefix: str = Field("proxy-core:limits:", min_length=1)

    @field_validator("redis")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return v


def parse(section: dict[str, Any]) -> LimitsConfig:
    try:
        return LimitsConfig.model_validate(section)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, SECTION)) from None
