"""Plugin loading and the typed hook caller the pipeline uses.

Plugins come from the ``proxy_core`` entry-point group (names are the entry-point
names), from the core's own defaults, and from an explicit list (tests, embedding
hosts). ``plugins.disabled`` in config blocks any of them by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy
import structlog

from . import hookspecs

if TYPE_CHECKING:
    from .context import Attempt, Principal, RequestContext, Route, Target, UpstreamRequest
    from .errors import ProxyError
    from .gateway import Gateway
    from .operations import OperationBridge

log = structlog.get_logger("proxy_core.plugins")

T = TypeVar("T")

DEFAULT_PLUGINS = ("proxy_core.builtin.resolve", "proxy_core.builtin.fallback_default")


async def await_me_maybe(value: T | Awaitable[T]) -> T:
    if inspect.isawaitable(value):
        return await value
    return value


def make_plugin_manager(
    *,
    disabled: Iterable[str] = (),
    load_entrypoints: bool = True,
    extra: Iterable[tuple[str, object]] = (),
    trace: bool = False,
) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("proxy_core")
    pm.add_hookspecs(hookspecs)
    for name in disabled:
        pm.set_blocked(name)
    import importlib

    for modname in DEFAULT_PLUGINS:
        if not pm.is_blocked(modname):
            pm.register(importlib.import_module(modname), name=modname)
    for name, plugin in extra:
        if not pm.is_blocked(name):
            pm.register(plugin, name=name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints("proxy_core")
    pm.check_pending()
    if trace:
        pm.add_hookcall_monitoring(_trace_before, _trace_after)
    return pm


def _trace_before(hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
    # Argument names only: values may hold keys and prompts.
    log.debug("hook.call", hook=hook_name, plugins=[i.plugin_name for i in impls], args=sorted(kwargs))


def _trace_after(
    outcome: pluggy.Result[Any], hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]
) -> None:
    log.debug("hook.done", hook=hook_name, failed=outcome.exception is not None)


def plugin_report(pm: pluggy.PluginManager) -> list[tuple[str, list[str]]]:
    """(plugin name, hooks it implements) for every registered plugin."""
    out = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda p: p[0]):
        if plugin is None:  # blocked by plugins.disabled
            continue
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        out.append((name, hooks))
    return out


class Hooks:
    """One typed method per hook: the pipeline never calls ``pm.hook.x(**kw)`` blind.

    Hooks without implementations are detected once, at start-up, and skipped.
    """

    def __init__(self, pm: pluggy.PluginManager, trace: bool = False) -> None:
        self.pm = pm
        self._h = pm.hook
        self._trace = trace
        self.has = {name: bool(getattr(pm.hook, name).get_hookimpls()) for name in _hook_names()}

    # start-up / shutdown
    def register_providers(self, register: Callable[[str, type], None]) -> None:
        self._h.register_providers(register=register)

    def register_routes(self, register: Callable[..., None], gateway: Gateway) -> None:
        self._h.register_routes(register=register, gateway=gateway)

    async def gateway_started(self, gateway: Gateway) -> None:
        # One at a time, awaiting each: a failing plugin must not leave others' coroutines unawaited.
        for impl in reversed(self._h.gateway_started.get_hookimpls()):
            await await_me_maybe(_call(impl, {"gateway": gateway}))

    async def gateway_stopping(self, gateway: Gateway) -> None:
        for impl in reversed(self._h.gateway_stopping.get_hookimpls()):
            try:
                await await_me_maybe(_call(impl, {"gateway": gateway}))
            except Exception:
                log.exception("plugin.shutdown_failed", plugin=impl.plugin_name)

    # per request
    async def authenticate(self, ctx: RequestContext) -> Principal | None:
        result: Principal | None = await self._first("authenticate", {"ctx": ctx})
        return result

    async def resolve_model(self, ctx: RequestContext, name: str) -> Route | None:
        result: Route | None = await self._first("resolve_model", {"ctx": ctx, "name": name})
        return result

    async def authorize(self, ctx: RequestContext) -> None:
        if self.has["authorize"]:
            for result in self._h.authorize(ctx=ctx):
                await await_me_maybe(result)

    # per attempt
    async def prepare_request(self, ctx: RequestContext, attempt: Attempt) -> None:
        if self.has["prepare_request"]:
            for result in self._h.prepare_request(ctx=ctx, attempt=attempt):
                await await_me_maybe(result)

    def operation_bridge(self, ctx: RequestContext, attempt: Attempt) -> OperationBridge | None:
        if not self.has["operation_bridge"]:
            return None
        bridge: OperationBridge | None = self._h.operation_bridge(ctx=ctx, attempt=attempt)
        return bridge

    async def prepare_upstream_request(self, ctx: RequestContext, attempt: Attempt, request: UpstreamRequest) -> None:
        if self.has["prepare_upstream_request"]:
            for result in self._h.prepare_upstream_request(ctx=ctx, attempt=attempt, request=request):
                await await_me_maybe(result)

    def select_targets(self, ctx: RequestContext, targets: list[Target]) -> list[Target]:
        if not self.has["select_targets"]:
            return targets
        chosen = self._h.select_targets(ctx=ctx, targets=targets)
        return targets if chosen is None else chosen

    def retry_delay(self, ctx: RequestContext, attempt: Attempt, error: ProxyError) -> float | None:
        if not self.has["retry_delay"]:
            return None
        delay: float | None = self._h.retry_delay(ctx=ctx, attempt=attempt, error=error)
        return delay

    def should_fallback(self, ctx: RequestContext, attempt: Attempt, error: ProxyError) -> bool:
        return bool(self._h.should_fallback(ctx=ctx, attempt=attempt, error=error))

    def transform_response(self, ctx: RequestContext, attempt: Attempt, response: dict[str, Any]) -> None:
        if self.has["transform_response"]:
            self._h.transform_response(ctx=ctx, attempt=attempt, response=response)

    def stream_transformers(self, ctx: RequestContext, attempt: Attempt) -> list[Callable[[Any], list[Any]]]:
        if not self.has["stream_transformer"]:
            return []
        return [t for t in self._h.stream_transformer(ctx=ctx, attempt=attempt) if t is not None]

    def on_attempt_end(self, ctx: RequestContext, attempt: Attempt) -> None:
        if self.has["on_attempt_end"]:
            self._h.on_attempt_end(ctx=ctx, attempt=attempt)

    def response_headers(self, ctx: RequestContext, headers: dict[str, str]) -> None:
        if self.has["response_headers"]:
            self._h.response_headers(ctx=ctx, headers=headers)

    async def on_request_end(self, ctx: RequestContext) -> None:
        if self.has["on_request_end"]:
            for impl in reversed(self._h.on_request_end.get_hookimpls()):
                try:
                    await await_me_maybe(_call(impl, {"ctx": ctx}))
                except Exception:
                    log.exception("plugin.record_failed", plugin=impl.plugin_name, request_id=ctx.request_id)

    async def _first(self, name: str, kwargs: dict[str, Any]) -> Any:
        """firstresult over sync and async implementations, in pluggy's call order."""
        for impl in reversed(getattr(self._h, name).get_hookimpls()):
            if self._trace:
                log.debug("hook.call", hook=name, plugin=impl.plugin_name)
            result = await await_me_maybe(_call(impl, kwargs))
            if result is not None:
                return result
        return None


def _call(impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> Any:
    """Call one implementation the way pluggy does: only the arguments it declares."""
    return impl.function(*[kwargs[a] for a in impl.argnames])


def _hook_names() -> list[str]:
    return [n for n, v in vars(hookspecs).items() if callable(v) and hasattr(v, "proxy_core_spec")]
