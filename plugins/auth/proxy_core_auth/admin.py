"""The admin API: run-time keys (admin keys only) and run-time account models (admins
and the account's managers). Errors are in OpenAI's shape with the right status."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from proxy_core import Principal
from proxy_core.config import format_validation_error
from proxy_core.endpoints import authenticate_headers
from proxy_core.errors import (
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProxyError,
    RequestTooLargeError,
    ServiceUnavailableError,
)

from .state import AuthState
from .store import AuthStore, StoredKey, store_errors
from .validation import NewKey, check_model_name, check_model_settings, parse_new_key

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway

log = structlog.get_logger("proxy_core.auth")

KEY_PREFIX = "pc-"
MAX_ADMIN_BODY = 64 * 1024

Endpoint = Callable[[Request], Awaitable[Response]]


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def static_listing(config: Any) -> list[dict[str, Any]]:
    """The config's keys as the admin API lists them (``source: config``)."""
    return [
        {
            "name": k.name,
            "user": k.user,
            "teams": list(k.teams),
            "models": None if k.models is None else list(k.models),
            "rpm": None,
            "tpm": None,
            "budget_usd": None,
            "admin": k.admin,
            "created_at": None,
            "source": "config",
        }
        for k in config.auth.keys
    ]


async def create_key(store: AuthStore, body: Any, static_names: frozenset[str]) -> tuple[str, StoredKey]:
    """Validate, store the digest; (the key, shown once; the stored record)."""
    new: NewKey = parse_new_key(body, static_names)
    secret = new_secret()
    stored = await store.create_key(new, hashlib.sha256(secret.encode()).digest())
    if stored is None:
        raise InvalidRequestError(f"a key named '{new.name}' already exists", param="name", code="duplicate_name")
    return secret, stored


async def list_keys(store: AuthStore, config: Any) -> dict[str, Any]:
    return {"data": static_listing(config) + [k.public() for k in await store.keys()]}


async def revoke_key(store: AuthStore, name: str, static_names: frozenset[str]) -> None:
    if name in static_names:
        raise ProxyError(
            f"key '{name}' comes from the config (auth.keys): remove it there",
            status=409,
            openai_type="invalid_request_error",
            param="name",
            code="static_key",
        )
    if not await store.revoke_key(name):
        raise NotFoundError(f"no key named '{name}'", param="name", code="key_not_found")


async def _json_body(request: Request) -> Any:
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_ADMIN_BODY:
            raise RequestTooLargeError(f"admin request bodies are limited to {MAX_ADMIN_BODY} bytes")
        chunks.append(chunk)
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError:
        raise InvalidRequestError("the body is not valid JSON", param="(body)") from None


def _state(gateway: Gateway) -> AuthState:
    state: AuthState | None = gateway.state.get("auth")
    if state is None:
        raise ServiceUnavailableError("the auth plugin is not running")
    return state


def _errors_as_openai(handler: Endpoint) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ProxyError as e:
            return Response(e.body_for("openai"), e.status, media_type="application/json", headers=e.headers)
        except store_errors() as e:
            log.warning("auth.store_error", path=request.url.path, error=type(e).__name__)
            unavailable = ServiceUnavailableError("the auth store is unavailable; try again", code="store_unavailable")
            return Response(unavailable.body_for("openai"), 503, media_type="application/json")

    return endpoint


def keys_endpoint(gateway: Gateway) -> Endpoint:
    """``GET /admin/keys`` (list) and ``POST /admin/keys`` (create)."""

    async def handler(request: Request) -> Response:
        await authenticate_headers(gateway, request.headers, request.url.path, admin=True)
        state = _state(gateway)
        if request.method == "GET":
            return JSONResponse(await list_keys(state.store, gateway.config))
        secret, stored = await create_key(state.store, await _json_body(request), state.static_names)
        await state.refresh()  # live on this replica at once
        return JSONResponse({"key": secret, **stored.public()}, status_code=201)

    return _errors_as_openai(handler)


def key_endpoint(gateway: Gateway) -> Endpoint:
    """``DELETE /admin/keys/{name}``."""

    async def handler(request: Request) -> Response:
        await authenticate_headers(gateway, request.headers, request.url.path, admin=True)
        state = _state(gateway)
        await revoke_key(state.store, request.path_params["name"], state.static_names)
        await state.refresh()
        return Response(status_code=204)

    return _errors_as_openai(handler)


def _manager_of(gateway: Gateway, principal: Principal, account: str) -> None:
    provider = gateway.providers.get(account)
    if provider is None:
        raise NotFoundError(f"no provider account '{account}'", param="account", code="provider_account_not_found")
    if principal.role_on(provider) != "manager":
        raise PermissionDeniedError(
            f"key '{principal.name}' is not a manager of provider account '{account}'", param="account"
        )


def _check_with_provider(gateway: Gateway, account: str, models: dict[str, dict[str, Any]], model: str) -> None:
    """Validate the account as its config section would be, with the new models."""
    provider = gateway.providers[account]
    raw = {**gateway.config.providers[account], "models": models}
    try:
        type(provider.settings).model_validate(raw)
    except ValidationError as e:
        for line in format_validation_error(e):
            path, _, message = line.partition(": ")
            prefix = f"models.{model}."
            if path.startswith(prefix):
                field = path[len(prefix) :]
                raise InvalidRequestError(f"'{field}': {message}", param=field) from None


def model_endpoint(gateway: Gateway) -> Endpoint:
    """``PUT`` / ``DELETE /admin/providers/{account}/models/{model}``."""

    async def handler(request: Request) -> Response:
        principal = await authenticate_headers(gateway, request.headers, request.url.path)
        account, model = request.path_params["account"], request.path_params["model"]
        _manager_of(gateway, principal, account)
        check_model_name(model)
        state = _state(gateway)
        stored = (await state.store.models(account)).get(account)
        current = state.effective_models(account, stored)
        if request.method == "PUT":
            settings = check_model_settings(await _json_body(request))
            _check_with_provider(gateway, account, {**current, model: settings}, model)
            await state.store.put_model(account, model, settings)
            await state.refresh()
            return JSONResponse({"account": account, "model": model, "settings": settings})
        if model not in current or not await state.store.remove_model(
            account, model, in_config=model in state.config_models.get(account, {})
        ):
            raise NotFoundError(f"provider account '{account}' has no model '{model}'", param="model")
        await state.refresh()
        return Response(status_code=204)

    return _errors_as_openai(handler)
