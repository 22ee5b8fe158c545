"""The Gateway: config, plugins, provider accounts, pooled upstream clients, the ASGI app."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import structlog
from httpx_aiohttp import AiohttpTransport
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from . import config as config_mod
from .config import ConfigError, GatewayConfig
from .context import RequestContext, Route, Target
from .endpoints import HealthEndpoint, ModelsEndpoint, OperationEndpoint, ReadyEndpoint
from .errors import ServiceUnavailableError
from .middleware import GatewayMiddleware
from .operations import CHAT, COUNT_TOKENS, MESSAGES, Operation
from .plugins import Hooks, make_plugin_manager
from .provider import Provider
from .upstream import DirectClient

log = structlog.get_logger("proxy_core.gateway")

TransportFactory = Callable[[str], httpx.AsyncBaseTransport]


class Gateway:
    """An LLM gateway built from a config: ``Gateway.from_config(path).app`` is an ASGI app."""

    def __init__(
        self,
        config: GatewayConfig | dict[str, Any],
        *,
        plugins: Iterable[tuple[str, object]] = (),
        load_entrypoints: bool = True,
        transport: TransportFactory | None = None,
    ) -> None:
        self.config = config if isinstance(config, GatewayConfig) else config_mod.parse(config)
        plugins_cfg = self.config.plugins
        self.pm = make_plugin_manager(
            disabled=plugins_cfg.disabled,
            load_entrypoints=load_entrypoints,
            extra=plugins,
            trace=plugins_cfg.trace_hooks,
        )
        self.hooks = Hooks(self.pm, trace=plugins_cfg.trace_hooks)
        self.operations: dict[str, Operation] = {op.name: op for op in (CHAT, MESSAGES, COUNT_TOKENS)}
        self.provider_types: dict[str, type[Provider]] = {}
        self.hooks.register_providers(self._register_provider)
        self.providers: dict[str, Provider] = self._build_providers()
        self.route_table: dict[str, Route] = self._compile_routes()
        self.extra_routes: list[StarletteRoute] = []
        self.hooks.register_routes(self._register_route, self)
        self._transport = transport
        self.clients: dict[str, httpx.AsyncClient] = {}
        # Accounts whose hot-path calls skip httpx (see proxy_core.upstream).
        self.direct_clients: dict[str, DirectClient] = {}
        self.started = False
        self.draining = False
        self.inflight = 0
        self.active: set[RequestContext] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Per-gateway plugin state, keyed by plugin name (plugin modules are shared).
        self.state: dict[str, Any] = {}
        self._start_lock = asyncio.Lock()
        # `starlette` serves plugin routes, 404s and lifespan; `app` puts the core's exact
        # paths in front of it so the hot path skips Starlette's middleware stack.
        self.starlette = self._build_starlette()
        self.app = GatewayMiddleware(self.starlette, gateway=self, manage_lifespan=False)

    @classmethod
    def from_config(cls, path: str | Path, **kwargs: Any) -> Gateway:
        return cls(config_mod.load(path), **kwargs)

    # --- registries ------------------------------------------------------------------

    def _register_provider(self, type_name: str, cls: type[Provider]) -> None:
        if type_name in self.provider_types:
            raise ConfigError([f"provider type {type_name!r} is registered twice"])
        self.provider_types[type_name] = cls

    def _register_route(self, path: str, endpoint: Any, methods: list[str] | None = None) -> None:
        for prefix in ("", "/v1"):
            self.extra_routes.append(StarletteRoute(prefix + path, endpoint, methods=methods or ["GET"]))

    def _build_providers(self) -> dict[str, Provider]:
        problems: list[str] = []
        providers: dict[str, Provider] = {}
        for name, raw in self.config.providers.items():
            type_name = raw.get("type")
            cls = self.provider_types.get(type_name) if isinstance(type_name, str) else None
            if cls is None:
                installed = ", ".join(sorted(self.provider_types)) or "none"
                problems.append(f"providers.{name}.type: unknown provider type {type_name!r} (installed: {installed})")
                continue
            try:
                settings = cls.settings_model.model_validate(raw)
            except ValidationError as e:
                problems.extend(config_mod.format_validation_error(e, f"providers.{name}"))
                continue
            prefix = f"providers.{name}."
            missing = {p[len(prefix) :]: v for p, v in self.config.missing_env.items() if p.startswith(prefix)}
            providers[name] = cls(name, settings, missing)
            if missing:
                log.warning("provider.not_configured", account=name, reason=providers[name].unavailable_reason)
        if problems:
            raise ConfigError(problems)
        return providers

    def _compile_routes(self) -> dict[str, Route]:
        """Every name a client may send, mapped to its Route: lookups are one dict access."""
        table: dict[str, Route] = {}
        targets: dict[str, Target] = {}
        for account, provider in self.providers.items():
            for model in provider.settings.models:
                target = Target(account, model, provider.for_model(model), provider.model_info(model))
                targets[target.name] = target
                route = Route(target.name, [target])
                table[target.name] = route
                table["@" + target.name] = route
        for alias, rc in self.config.routes.items():
            settings = rc.model_extra or {}
            # A target removed at run time (set_models) leaves its routes; one left empty is gone.
            kept = [targets[t.lstrip("@")] for t in rc.targets if t.lstrip("@") in targets]
            if kept:
                table[alias] = Route(alias, kept, alias=alias, settings=settings)
        return table

    def set_models(self, account: str, models: dict[str, dict[str, Any]]) -> None:
        """Replace an account's models at run time (e.g. a manager's admin call, synced
        from a shared store): the route table is rebuilt and swapped in one assignment,
        so a request sees the old table or the new one, never half of each."""
        provider = self.providers[account]
        provider.settings.models = {name: dict(settings) for name, settings in models.items()}
        self.route_table = self._compile_routes()

    def model_names(self) -> list[tuple[str, str]]:
        """(name, owner) for /models: every account/model and every route alias."""
        names = [(name, name.split("/", 1)[0]) for name in self.route_table if "/" in name and name[0] != "@"]
        names += [(alias, "proxy-core") for alias in self.config.routes if alias in self.route_table]
        return names

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Open upstream clients and run ``gateway_started``. Idempotent."""
        async with self._start_lock:
            if self.started:
                return
            for name, provider in self.providers.items():
                self.clients[name] = self._make_client(name, provider)
            self._loop = asyncio.get_running_loop()
            await self.hooks.gateway_started(self)
            self.started = True
            self.draining = False
            log.info("gateway.started", accounts=sorted(self.providers), plugins=len(self.pm.get_plugins()))

    def _make_client(self, name: str, provider: Provider) -> httpx.AsyncClient:
        t = provider.settings.timeout
        limits = httpx.Limits(
            max_connections=provider.settings.max_connections,
            max_keepalive_connections=provider.settings.max_connections,
        )
        # httpx's API (Auth flows, injectable transports) over aiohttp's connection pool:
        # httpcore's pool scans every connection on every request, several times slower.
        transport = self._transport(name) if self._transport else _upstream_transport(limits)
        auth = provider.http_auth()
        timeout = httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool)
        client = httpx.AsyncClient(
            base_url=provider.base_url,
            auth=auth,
            timeout=timeout,
            limits=limits,
            transport=transport,
            trust_env=False,
            follow_redirects=False,
        )
        if auth is None and isinstance(transport, AiohttpTransport):
            self.direct_clients[name] = DirectClient(transport, str(client.base_url), timeout)
        return client

    def begin_drain(self, grace_s: float | None = None) -> None:
        """From now on /readyz fails and new requests get 503. In-flight requests go on for
        the grace period; those still running then end with an error in their client's
        shape (an in-stream error event for streams). Safe to call from a signal handler."""
        if self.draining:
            return
        self.draining = True
        grace = self.config.server.shutdown_grace_s if grace_s is None else grace_s
        log.info("gateway.draining", inflight=self.inflight, grace_s=grace)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: self._loop and self._loop.call_later(grace, self._abort_active))

    def _abort_active(self) -> None:
        error = ServiceUnavailableError("the gateway shut down before this request finished", code="shutting_down")
        for ctx in list(self.active):
            if ctx.abort is not None:
                ctx.abort(error)

    async def stop(self, grace_s: float | None = None) -> None:
        """Drain (see ``begin_drain``), wait for in-flight requests, flush plugins, close."""
        if not self.started:
            return
        grace = self.config.server.shutdown_grace_s if grace_s is None else grace_s
        self.begin_drain(grace)
        deadline = time.monotonic() + grace + 5.0
        while self.inflight > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await self.hooks.gateway_stopping(self)
        clients, self.clients = self.clients, {}
        self.direct_clients = {}
        for client in clients.values():
            await client.aclose()
        self.started = False
        log.info("gateway.stopped", inflight_left=self.inflight)

    def install_signal_handlers(self) -> None:
        """Start draining on SIGTERM/SIGINT at once (/readyz fails, new requests get 503),
        then let the server's own handler begin its graceful shutdown."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)

            def handler(signum: int, frame: Any, previous: Any = previous) -> None:
                self.begin_drain()
                if callable(previous):
                    previous(signum, frame)

            signal.signal(sig, handler)

    @asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        """For hosts: ``Starlette(lifespan=lambda app: gateway.lifespan())``."""
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    # --- ASGI ------------------------------------------------------------------------

    def core_routes(self) -> dict[str, Any]:
        """Exact paths served by the core, at the root and under /v1."""
        routes: dict[str, Any] = {
            "/chat/completions": OperationEndpoint(self, CHAT),
            "/messages": OperationEndpoint(self, MESSAGES),
            "/messages/count_tokens": OperationEndpoint(self, COUNT_TOKENS),
            "/models": ModelsEndpoint(self),
        }
        out = {}
        for path, endpoint in routes.items():
            out[path] = out["/v1" + path] = endpoint
        out["/healthz"] = HealthEndpoint()
        out["/readyz"] = ReadyEndpoint(self)
        return out

    def middleware(self, app: Any) -> GatewayMiddleware:
        """Serve the gateway's paths in front of a host ASGI app; other paths go to it."""
        return GatewayMiddleware(app, gateway=self, manage_lifespan=True)

    def _build_starlette(self) -> Starlette:
        return Starlette(exception_handlers={HTTPException: _http_error}, lifespan=self.lifespan)


def _upstream_transport(limits: httpx.Limits) -> AiohttpTransport:
    """httpx's API over one aiohttp session per account. The session keeps no cookies:
    the gateway serves many tenants over one session, and nothing one tenant's answer set
    may ride along with another's request (it also skips a cookie-jar filter per call)."""
    transport = AiohttpTransport(limits=limits, trust_env=False)

    def session() -> aiohttp.ClientSession:  # made lazily, inside the running loop
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0, keepalive_timeout=limits.keepalive_expiry, ssl=transport.ssl_context
        )
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    transport.client = session
    return transport


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "not found" if exc.status_code == 404 else str(exc.detail)
    body = {"error": {"message": f"{message}: {request.method} {request.url.path}", "type": "invalid_request_error"}}
    return JSONResponse(body, status_code=exc.status_code)
