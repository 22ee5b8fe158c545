"""Key authentication and model allow-lists.

Keys are compared as SHA-256 digests with ``hmac.compare_digest`` against every
configured key (no early exit), so neither the key nor which entry matched leaks
through timing. A key whose ``${VAR}`` is unset is disabled with a warning.
``plugins.auth.anonymous: true`` lets requests without a valid key through as the
principal "anonymous" (for local development behind a trusted network only).
"""

from __future__ import annotations

import hashlib
import hmac

import structlog

from proxy_core import Principal, RequestContext, hookimpl
from proxy_core.errors import AuthenticationError, PermissionDeniedError
from proxy_core.gateway import Gateway

log = structlog.get_logger("proxy_core.auth")

_STATE = "auth"


def _compile(gateway: Gateway) -> list[tuple[bytes, Principal]]:
    entries = []
    for i, key in enumerate(gateway.config.auth.keys):
        if key.key is not None:
            secret = key.key.get_secret_value()
            if not secret:
                var = gateway.config.missing_env.get(f"auth.keys.{i}.key", "?")
                log.warning("auth.key_disabled", key_name=key.name, reason=f"environment variable {var} is not set")
                continue
            digest = hashlib.sha256(secret.encode()).digest()
        else:
            assert key.key_sha256 is not None
            digest = bytes.fromhex(key.key_sha256)
        principal = Principal(
            name=key.name,
            user=key.user,
            teams=tuple(key.teams),
            admin=key.admin,
            models=tuple(key.models) if key.models is not None else None,
        )
        entries.append((digest, principal))
    return entries


def _entries(gateway: Gateway) -> list[tuple[bytes, Principal]]:
    entries = gateway.state.get(_STATE)
    if entries is None:
        entries = gateway.state[_STATE] = _compile(gateway)
    return entries


@hookimpl
def gateway_started(gateway: Gateway) -> None:
    gateway.state[_STATE] = _compile(gateway)


@hookimpl
def authenticate(ctx: RequestContext) -> Principal | None:
    key = ctx.client_key
    if key is not None:
        digest = hashlib.sha256(key.encode()).digest()
        found = None
        for stored, principal in _entries(ctx.gateway):
            if hmac.compare_digest(digest, stored):
                found = principal
        if found is not None:
            return found
    if ctx.gateway.config.plugin_section("auth").get("anonymous") is True:
        return Principal(name="anonymous")
    if key is None:
        raise AuthenticationError("Missing gateway API key: send it as 'Authorization: Bearer <key>' or as 'x-api-key'")
    raise AuthenticationError("Invalid gateway API key")


@hookimpl
def authorize(ctx: RequestContext) -> None:
    principal, route = ctx.principal, ctx.route
    if principal is None or route is None or principal.models is None:
        return
    if principal.may_use(route.name) or all(principal.may_use(t.name) for t in route.targets):
        return
    raise PermissionDeniedError(f"key '{principal.name}' may not use model '{ctx.requested_model}'", param="model")
