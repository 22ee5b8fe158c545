"""Gateway configuration: YAML, ``${VAR}`` / ``${VAR:-default}`` interpolation, validation.

The shape is the contract of DESIGN.md (``server``, ``auth``, ``providers``, ``routes``,
``plugins``). Validation errors name the path of the bad value and never echo a value,
so a secret in a wrong place is never printed. An environment variable that is unset
inside a provider account does not stop start-up: the account is marked unavailable and
its requests get a 503 naming the variable (so ``make run`` works without keys).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """A bad configuration: every problem as ``path: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


# --- interpolation -------------------------------------------------------------------


def interpolate(
    node: Any, env: Mapping[str, str], path: tuple[str, ...] = (), missing: dict[str, str] | None = None
) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string; ``$$`` is a literal ``$``.

    Unset variables without a default become "" and are recorded in ``missing`` as
    ``{dotted.path: VAR}``.
    """
    if missing is None:
        missing = {}
    if isinstance(node, dict):
        return {k: interpolate(v, env, (*path, str(k)), missing) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env, (*path, str(i)), missing) for i, v in enumerate(node)]
    if not isinstance(node, str) or "$" not in node:
        return node

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, default = m.group(1), m.group(2)
        value = env.get(name)
        if value is None or (value == "" and default is not None):
            if default is not None:
                return default
            missing[".".join(path)] = name
            return ""
        return value

    return _VAR.sub(sub, node)


# --- the schema ------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(32 * 1024 * 1024, gt=0)
    # Grace period for in-flight requests on shutdown, seconds.
    shutdown_grace_s: float = Field(30.0, ge=0)
    # Deadline for reading a whole JSON request body (slow clients get 408), seconds.
    body_read_timeout_s: float = Field(30.0, gt=0)
    # Request headers larger than this in total (names + values) get 431.
    max_header_bytes: int = Field(32 * 1024, gt=0)
    # JSON bodies with more containers and values than this get 400 before parsing
    # (parsing is CPU-bound and holds the event loop: ~0.15 s per million values).
    max_json_values: int = Field(1_000_000, gt=0)
    # After a streaming client leaves once its answer was complete, read the upstream
    # this long for the final usage before cancelling (0: cancel at once), seconds.
    usage_drain_s: float = Field(2.0, ge=0)
    log_level: str = "info"


class KeyConfig(_Strict):
    name: str = Field(min_length=1)
    key: SecretStr | None = None
    key_sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")
    user: str | None = None
    teams: list[str] = []
    admin: bool = False
    # Optional allow-list of model names (`account/model`, `account/*`, route aliases).
    models: list[str] | None = None


class AuthConfig(_Strict):
    keys: list[KeyConfig] = []
    # Where run-time keys and account models live (the spend store's URL forms);
    # None: the auth plugin's default under the data dir.
    store: str | None = None


class TimeoutConfig(_Strict):
    connect: float = Field(10.0, gt=0)
    read: float = Field(600.0, gt=0)
    write: float = Field(60.0, gt=0)
    pool: float = Field(10.0, gt=0)


class Collaborator(_Strict):
    """Who may use a provider account: ``user:NAME`` or ``team:NAME``; a ``manager`` may
    also add, change and remove the account's models at run time."""

    subject: str = Field(pattern=r"^(user|team):\S+$")
    role: Literal["user", "manager"] = "user"


class ProviderConfig(BaseModel):
    """A provider account. Provider types extend this with their own fields."""

    model_config = ConfigDict(extra="forbid")

    type: str
    base_url: str | None = None
    api_key: SecretStr | None = None
    headers: dict[str, str] = {}
    models: dict[str, dict[str, Any]] = {}
    timeout: TimeoutConfig = TimeoutConfig()
    max_connections: int = Field(1000, gt=0)
    # None: every authenticated key may use the account; a list: only its subjects (and admins).
    collaborators: list[Collaborator] | None = None

    @field_validator("models", mode="before")
    @classmethod
    def _none_means_empty(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({} if m is None else m) for k, m in v.items()}
        if isinstance(v, list):  # `models: [a, b]` is accepted as a shorthand
            return {str(k): {} for k in v}
        return v


class RouteConfig(BaseModel):
    model_config = ConfigDict(extra="allow")  # retry / fallback / timeouts belong to plugins

    targets: list[str] = Field(min_length=1)


class PluginsConfig(BaseModel):
    model_config = ConfigDict(extra="allow")  # one section per plugin, validated by it

    disabled: list[str] = []
    trace_hooks: bool = False


class GatewayConfig(_Strict):
    server: ServerConfig = ServerConfig()
    auth: AuthConfig = AuthConfig()
    providers: dict[str, dict[str, Any]] = {}
    routes: dict[str, RouteConfig] = {}
    plugins: PluginsConfig = PluginsConfig()
    # Filled by load(): dotted path -> unset environment variable.
    missing_env: dict[str, str] = {}

    def plugin_section(self, name: str) -> dict[str, Any]:
        section = (self.plugins.model_extra or {}).get(name)
        return section if isinstance(section, dict) else {}


# --- loading ---------------------------------------------------------------------------


def format_validation_error(err: ValidationError, prefix: str = "") -> list[str]:
    """``path: message`` lines; pydantic's input values are never included."""
    out = []
    for e in err.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in e["loc"])
        path = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "(root)")
        out.append(f"{path}: {e['msg']}")
    return out


def parse(raw: Any, env: Mapping[str, str] | None = None) -> GatewayConfig:
    """Validate an already-loaded YAML tree (a dict)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(["(root): the configuration must be a mapping"])
    missing: dict[str, str] = {}
    data = interpolate(raw, os.environ if env is None else env, (), missing)
    problems = [
        f"{path}: environment variable {var} is not set"
        for path, var in missing.items()
        if not (path.startswith("providers.") or _is_auth_key(path))
    ]
    if problems:
        raise ConfigError(problems)
    try:
        cfg = GatewayConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e)) from None
    cfg.missing_env = missing
    _check_cross_references(cfg)
    return cfg


def _is_auth_key(path: str) -> bool:
    parts = path.split(".")
    return len(parts) == 4 and parts[:2] == ["auth", "keys"] and parts[3] == "key"


def _check_cross_references(cfg: GatewayConfig) -> None:
    problems = []
    for name, account in cfg.providers.items():
        if not isinstance(account, dict):
            problems.append(f"providers.{name}: must be a mapping")
        elif not account.get("type"):
            problems.append(f"providers.{name}.type: required")
        if "/" in name:
            problems.append(f"providers.{name}: an account name cannot contain '/'")
    for i, key in enumerate(cfg.auth.keys):
        if key.key is None and key.key_sha256 is None:
            problems.append(f"auth.keys.{i}: one of 'key' or 'key_sha256' is required")
        if key.key is not None and key.key_sha256 is not None:
            problems.append(f"auth.keys.{i}: give 'key' or 'key_sha256', not both")
    names = [k.name for k in cfg.auth.keys]
    problems.extend(f"auth.keys: duplicate key name {d!r}" for d in sorted({n for n in names if names.count(n) > 1}))
    for alias, route in cfg.routes.items():
        for i, target in enumerate(route.targets):
            acct, sep, model = target.lstrip("@").partition("/")
            if not sep or not model:
                problems.append(f"routes.{alias}.targets.{i}: expected 'account/model'")
            elif acct not in cfg.providers:
                problems.append(f"routes.{alias}.targets.{i}: unknown provider account {acct!r}")
            elif model not in (cfg.providers[acct].get("models") or {}):
                problems.append(f"routes.{alias}.targets.{i}: account {acct!r} has no model {model!r}")
    if problems:
        raise ConfigError(problems)


def load(path: str | Path, env: Mapping[str, str] | None = None) -> GatewayConfig:
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ConfigError([f"{path}: cannot read ({e.strerror})"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise ConfigError([f"{path}: YAML syntax error at {where}"]) from None
    return parse(raw, env)
