"""Key authentication, model allow-lists, account collaborators and the admin API.

Static keys (``auth.keys``) are compared as SHA-256 digests with ``hmac.compare_digest``
against every configured key (no early exit), so neither the key nor which entry matched
leaks through timing. A key whose ``${VAR}`` is unset is disabled with a warning.
Run-time keys (``POST /admin/keys``, ``proxy-core keys create``) live in ``auth.store``
as digests and are found by one dict lookup on the digest (see ``state``).
``plugins.auth.anonymous: true`` lets requests without a valid key through as the
principal "anonymous" (for local development behind a trusted network only).

Collaborators: a route's targets on accounts where the caller has no role are dropped
(an alias falls back only through accounts the caller may use); none left is a 403
naming the accounts. This runs first among ``authorize`` hooks, so limits see the
targets actually used.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from proxy_core import Principal, RequestContext, hookimpl
from proxy_core.config import ConfigError
from proxy_core.context import Route
from proxy_core.errors import AuthenticationError, PermissionDeniedError
from proxy_core.gateway import Gateway

from .admin import key_endpoint, keys_endpoint, model_endpoint
from .state import AuthState, sync_interval

NAME = "auth"
_SETTINGS = ("anonymous", "sync_s")


def _state(gateway: Gateway) -> AuthState:
    state: AuthState | None = gateway.state.get(NAME)
    if state is None:  # a request before gateway_started: static keys only until it runs
        state = gateway.state[NAME] = AuthState(gateway)
    return state


@hookimpl
def register_routes(register: Callable[..., None], gateway: Gateway) -> None:
    section = gateway.config.plugin_section(NAME)
    unknown = sorted(set(section) - set(_SETTINGS))
    if unknown:
        raise ConfigError([f"plugins.auth.{k}: unknown setting (known: {', '.join(_SETTINGS)})" for k in unknown])
    sync_interval(section)
    register("/admin/keys", keys_endpoint(gateway), methods=["GET", "POST"])
    register("/admin/keys/{name}", key_endpoint(gateway), methods=["DELETE"])
    register("/admin/providers/{account}/models/{model:path}", model_endpoint(gateway), methods=["PUT", "DELETE"])


@hookimpl
async def gateway_started(gateway: Gateway) -> None:
    state = _state(gateway)
    await state.start()


@hookimpl
async def gateway_stopping(gateway: Gateway) -> None:
    state: AuthState | None = gateway.state.pop(NAME, None)
    if state is not None:
        await state.stop()


@hookimpl
def authenticate(ctx: RequestContext) -> Principal | None:
    key = ctx.client_key
    if key is not None:
        state = _state(ctx.gateway)
        digest = hashlib.sha256(key.encode()).digest()
        found = None
        for stored, principal in state.static:
            if hmac.compare_digest(digest, stored):
                found = principal
        if found is None:
            found = state.runtime.get(digest)
        if found is not None:
            return found
    if ctx.gateway.config.plugin_section(NAME).get("anonymous") is True:
        return Principal(name="anonymous")
    if key is None:
        raise AuthenticationError("Missing gateway API key: send it as 'Authorization: Bearer <key>' or as 'x-api-key'")
    raise AuthenticationError("Invalid gateway API key")


@hookimpl(tryfirst=True)
def authorize(ctx: RequestContext) -> None:
    principal, route = ctx.principal, ctx.route
    if principal is None or route is None:
        return
    if principal.models is not None and not (
        principal.may_use(route.name) or all(principal.may_use(t.name) for t in route.targets)
    ):
        raise PermissionDeniedError(f"key '{principal.name}' may not use model '{ctx.requested_model}'", param="model")
    if principal.admin:
        return
    kept = [t for t in route.targets if principal.role_on(t.provider) is not None]
    if len(kept) == len(route.targets):
        return
    if not kept:
        accounts = ", ".join(sorted({f"'{t.account}'" for t in route.targets}))
        raise PermissionDeniedError(
            f"key '{principal.name}' is not a collaborator of provider account {accounts} "
            f"(model '{ctx.requested_model}')",
            param="model",
        )
    ctx.route = Route(route.name, kept, alias=route.alias, settings=route.settings)
