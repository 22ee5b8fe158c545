"""Plugin loading and the typed hook caller the pipeline uses.

Plugins come from the ``proxy_core`` entry-point group (names are the entry-point
names), from the core's own defaults, and from an explicit list (tests, embedding
hosts). ``plugins.disabled`` in config blocks any of them by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from operator import itemgetter
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


def _no_args(kwargs: dict[str, Any]) -> tuple[()]:
    return ()


class HookImpl:
    """One plugin's implementation of a hook, ready to call with the arguments it declares."""

    __slots__ = ("_args", "_single", "function", "is_async", "plugin")

    def __init__(self, plugin: str, function: Callable[..., Any], argnames: tuple[str, ...], is_async: bool) -> None:
        self.plugin = plugin
        self.function = function
        self.is_async = is_async
        # The declared arguments picked from the call's keywords in one C call.
        self._args: Callable[[dict[str, Any]], Any] = itemgetter(*argnames) if argnames else _no_args
        self._single = len(argnames) == 1  # itemgetter of one name returns the value itself

    def __call__(self, kwargs: dict[str, Any]) -> Any:
        if self._single:
            return self.function(self._args(kwargs))
        return self.function(*self._args(kwargs))


class Hooks:
    """One typed method per hook: the pipeline never calls ``pm.hook.x(**kw)`` blind.

    The implementations are compiled once, at start-up, in pluggy's call order (the
    plugin list is fixed once the gateway is built): a request walks plain tuples, with
    no per-call hook lookup, argument mapping or awaitable check of sync results.
    """

    def __init__(self, pm: pluggy.PluginManager, trace: bool = False) -> None:
        self.pm = pm
        self._trace = trace
        self.impls: dict[str, tuple[HookImpl, ...]] = {name: _compile(pm, name) for name in _hook_names()}
        self.has = {name: bool(impls) for name, impls in self.impls.items()}
        self._h = pm.hook

    # start-up / shutdown
    def register_providers(self, register: Callable[[str, type], None]) -> None:
        self._h.register_providers(register=register)

    def register_routes(self, register: Callable[..., None], gateway: Gateway) -> None:
        self._h.register_routes(register=register, gateway=gateway)

    async def gateway_started(self, gateway: Gateway) -> None:
        # One at a time, awaiting each: a failing plugin must not leave others' coroutines unawaited.
        await self._all("gateway_started", {"gateway": gateway})

    async def gateway_stopping(self, gateway: Gateway) -> None:
        for impl in self.impls["gateway_stopping"]:
            try:
                await await_me_maybe(impl({"gateway": gateway}))
            except Exception:
                log.exception("plugin.shutdown_failed", plugin=impl.plugin)

    # per request
    async def authenticate(self, ctx: RequestContext) -> Principal | None:
        result: Principal | None = await self._first("authenticate", {"ctx": ctx})
        return result

    async def resolve_model(self, ctx: RequestContext, name: str) -> Route | None:
        result: Route | None = await self._first("resolve_model", {"ctx": ctx, "name": name})
        return result

    async def authorize(self, ctx: RequestContext) -> None:
        await self._all("authorize", {"ctx": ctx})

    # per attempt
    async def prepare_request(self, ctx: RequestContext, attempt: Attempt) -> None:
        await self._all("prepare_request", {"ctx": ctx, "attempt": attempt})

    def operation_bridge(self, ctx: RequestContext, attempt: Attempt) -> OperationBridge | None:
        bridge: OperationBridge | None = self._first_sync("operation_bridge", {"ctx": ctx, "attempt": attempt})
        return bridge

    async def prepare_upstream_request(self, ctx: RequestContext, attempt: Attempt, request: UpstreamRequest) -> None:
        await self._all("prepare_upstream_request", {"ctx": ctx, "attempt": attempt, "request": request})

    def select_targets(self, ctx: RequestContext, targets: list[Target]) -> list[Target]:
        chosen: list[Target] | None = self._first_sync("select_targets", {"ctx": ctx, "targets": targets})
        return targets if chosen is None else chosen

    def retry_delay(self, ctx: RequestContext, attempt: Attempt, error: ProxyError) -> float | None:
        delay: float | None = self._first_sync("retry_delay", {"ctx": ctx, "attempt": attempt, "error": error})
        return delay

    def should_fallback(self, ctx: RequestContext, attempt: Attempt, error: ProxyError) -> bool:
        return bool(self._first_sync("should_fallback", {"ctx": ctx, "attempt": attempt, "error": error}))

    def transform_response(self, ctx: RequestContext, attempt: Attempt, response: dict[str, Any]) -> None:
        self._all_sync("transform_response", {"ctx": ctx, "attempt": attempt, "response": response})

    def stream_transformers(self, ctx: RequestContext, attempt: Attempt) -> list[Callable[[Any], list[Any]]]:
        kwargs = {"ctx": ctx, "attempt": attempt}
        found = [impl(kwargs) for impl in self.impls["stream_transformer"]]
        return [t for t in found if t is not None]

    def on_attempt_end(self, ctx: RequestContext, attempt: Attempt) -> None:
        self._all_sync("on_attempt_end", {"ctx": ctx, "attempt": attempt})

    def response_headers(self, ctx: RequestContext, headers: dict[str, str]) -> None:
        self._all_sync("response_headers", {"ctx": ctx, "headers": headers})

    async def on_request_end(self, ctx: RequestContext) -> None:
        kwargs = {"ctx": ctx}
        for impl in self.impls["on_request_end"]:
            try:
                result = impl(kwargs)
                if result is not None and (impl.is_async or inspect.isawaitable(result)):
                    await result
            except Exception:
                log.exception("plugin.record_failed", plugin=impl.plugin, request_id=ctx.request_id)

    # callers
    async def _first(self, name: str, kwargs: dict[str, Any]) -> Any:
        """firstresult over sync and async implementations, in pluggy's call order."""
        for impl in self.impls[name]:
            if self._trace:
                log.debug("hook.call", hook=name, plugin=impl.plugin)
            result = impl(kwargs)
            if result is not None and (impl.is_async or inspect.isawaitable(result)):
                result = await result
            if result is not None:
                return result
        return None

    async def _all(self, name: str, kwargs: dict[str, Any]) -> None:
        for impl in self.impls[name]:
            if self._trace:
                log.debug("hook.call", hook=name, plugin=impl.plugin)
            result = impl(kwargs)
            if result is not None and (impl.is_async or inspect.isawaitable(result)):
                await result

    def _first_sync(self, name: str, kwargs: dict[str, Any]) -> Any:
        for impl in self.impls[name]:
            if self._trace:
                log.debug("hook.call", hook=name, plugin=impl.plugin)
            result = impl(kwargs)
            if result is not None:
                return result
        return None

    def _all_sync(self, name: str, kwargs: dict[str, Any]) -> None:
        for impl in self.impls[name]:
            if self._trace:
                log.debug("hook.call", hook=name, plugin=impl.plugin)
            impl(kwargs)


def _compile(pm: pluggy.PluginManager, name: str) -> tuple[HookImpl, ...]:
    """A hook's implementations in pluggy's call order (tryfirst first, then newest first)."""
    return tuple(
        HookImpl(i.plugin_name, i.function, tuple(i.argnames), inspect.iscoroutinefunction(i.function))
        for i in reversed(getattr(pm.hook, name).get_hookimpls())
    )


def _hook_names() -> list[str]:
    return [n for n, v in vars(hookspecs).items() if callable(v) and hasattr(v, "proxy_core_spec")]
