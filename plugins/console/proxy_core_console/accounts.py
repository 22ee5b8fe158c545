"""``GET /admin/console/accounts``: who the caller is, and the provider accounts it may
administer (every account for an admin key, the accounts it manages for a manager), with
their models and passive health. Read-only: changes go through the auth plugin's admin
API (``/admin/keys``, ``/admin/providers/{account}/models/{model}``).

Health is the fallback plugin's cool-down book (read through its public
``cooling_until``); without that plugin every target reads as healthy. Nothing secret is
listed: no account credentials, no extra header values, and model settings whose names
look like credentials are left out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from proxy_core import Principal
from proxy_core.endpoints import authenticate_headers
from proxy_core.errors import ProxyError

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway
    from proxy_core.provider import Provider

_SECRET_NAME = re.compile(r"key|secret|token|password|credential", re.IGNORECASE)


def cooling_for_s(gateway: Gateway, target: str) -> float | None:
    """Seconds left of a target's cool-down, or None when it is not cooling down."""
    fallback = gateway.state.get("fallback")
    health = getattr(fallback, "health", None)
    if health is None:
        return None
    now = time.monotonic()
    until: float | None = health.cooling_until(target, now)
    return None if until is None else round(until - now, 1)


def describe_account(gateway: Gateway, name: str, provider: Provider) -> dict[str, Any]:
    models = []
    for model, settings in sorted(provider.settings.models.items()):
        cooling = cooling_for_s(gateway, f"{name}/{model}")
        models.append(
            {
                "name": model,
                "target": f"{name}/{model}",
                "settings": {k: v for k, v in settings.items() if not _SECRET_NAME.search(k)},
                "cooling_down": cooling is not None,
                "cooling_for_s": cooling,
            }
        )
    collaborators = provider.settings.collaborators
    return {
        "account": name,
        "type": provider.type_name,
        "configured": provider.unavailable_reason is None,
        "unavailable_reason": provider.unavailable_reason,
        "collaborators": None if collaborators is None else [c.model_dump() for c in collaborators],
        "models": models,
    }


def describe_principal(principal: Principal) -> dict[str, Any]:
    return {"name": principal.name, "user": principal.user, "teams": list(principal.teams), "admin": principal.admin}


def accounts_report(gateway: Gateway, principal: Principal) -> dict[str, Any]:
    accounts = [
        describe_account(gateway, name, provider)
        for name, provider in sorted(gateway.providers.items())
        if principal.role_on(provider) == "manager"
    ]
    return {"principal": describe_principal(principal), "accounts": accounts}


def accounts_endpoint(gateway: Gateway) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            principal = await authenticate_headers(gateway, request.headers, request.url.path)
        except ProxyError as e:
            return Response(e.body_for("openai"), e.status, media_type="application/json", headers=e.headers)
        return JSONResponse(accounts_report(gateway, principal), headers={"cache-control": "no-store"})

    return endpoint
