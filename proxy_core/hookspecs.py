"""Every hook a proxy-core plugin can implement, grouped by stage.

Rules shared by all hooks:

* pluggy is synchronous. Unless a hook says otherwise, an implementation may return a
  value or an awaitable (``async def`` is fine); the core awaits what needs awaiting.
* ``firstresult`` hooks stop at the first non-None result. The core loops over their
  implementations itself so that an ``async def`` implementation returning None lets
  the next one run (pluggy alone would stop at the first coroutine).
* Arguments may be added to a hook in later versions, never removed; implement only the
  arguments you need (pluggy passes them by name).
* A hook that raises :class:`proxy_core.errors.ProxyError` fails the request with that
  error in the client's API shape; any other exception fails it with a 500 and is
  logged. Either way the worker keeps serving.
* Per-request hooks (``authenticate``, ``resolve_model``, ``authorize``,
  ``select_targets``) run once per client request; per-attempt hooks
  (``prepare_request``, ``prepare_upstream_request``, ``transform_response``,
  ``stream_transformer``, ``retry_delay``, ``should_fallback``, ``on_attempt_end``,
  ``operation_bridge``)
  run once for every upstream attempt, so a fallback re-runs them
  for the next target. ``on_request_end`` runs exactly once per request.
* Translation to and from a provider's wire format is not a hook: it is the job of the
  provider adapter registered by ``register_providers`` (see ``proxy_core.provider``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .context import Attempt, Principal, RequestContext, Route, Target, UpstreamRequest
    from .errors import ProxyError
    from .gateway import Gateway
    from .operations import OperationBridge

hookspec = pluggy.HookspecMarker("proxy_core")
hookimpl = pluggy.HookimplMarker("proxy_core")


# --- start-up and shutdown -------------------------------------------------------------


@hookspec
def register_providers(register: Callable[[str, type], None]) -> None:
    """Add provider types. Runs once when the gateway is built.

    Call ``register(type_name, provider_class)`` for each type; the class subclasses
    :class:`proxy_core.provider.Provider`. Registering a type name twice is a start-up
    error naming both plugins. Return value ignored; must be synchronous.
    """


@hookspec
def register_routes(register: Callable[..., None], gateway: Gateway) -> None:
    """Add HTTP routes. Runs once when the gateway is built (after its providers).

    Call ``register(path, endpoint, methods=["GET"])``. ``endpoint`` is an ASGI app or an
    ``async def (request) -> Response`` Starlette endpoint; the route is served at
    ``path`` and under ``/v1`` + ``path``. ``gateway`` is the gateway being built (not
    started yet): keep it for the endpoint. Return value ignored; must be synchronous.
    """


@hookspec
def gateway_started(gateway: Gateway) -> Any:
    """After the gateway has started (clients open), before the first request is served.

    Use it to open connections or start background writers; ``gateway`` gives the
    config (``gateway.config.plugin_section(name)``). May return an awaitable.
    """


@hookspec
def gateway_stopping(gateway: Gateway) -> Any:
    """On shutdown, after in-flight requests have ended or the grace period has passed.

    Flush and close what ``gateway_started`` opened. May return an awaitable; errors
    are logged and do not stop other plugins' shutdown.
    """


# --- once per request ------------------------------------------------------------------


@hookspec(firstresult=True)
def authenticate(ctx: RequestContext) -> Principal | None:
    """Who is calling. Runs once, after the body has been read and parsed.

    ``ctx.client_key`` holds the key the client sent (``x-api-key`` or
    ``Authorization: Bearer``), or None. Return a :class:`Principal`, or None to let the
    next plugin decide; raise ``AuthenticationError`` to reject. When every
    implementation returns None the request fails with 401. Stops at first non-None
    result; may be async.
    """


@hookspec(firstresult=True)
def resolve_model(ctx: RequestContext, name: str) -> Route | None:
    """Turn the client's ``model`` into a :class:`Route` (ordered targets).

    Runs once, after ``authenticate``. Return None when the name is not yours; when
    nobody resolves it the client gets 404. Stops at first non-None result; may be async.
    """


@hookspec
def authorize(ctx: RequestContext) -> Any:
    """May ``ctx.principal`` use ``ctx.route``? Limits and budgets go here.

    Runs once, after ``resolve_model``. Raise ``PermissionDeniedError`` (403) or
    ``RateLimitError`` (429) to refuse; return None (or an awaitable of None) to allow.
    All implementations run.
    """


@hookspec(firstresult=True)
def select_targets(ctx: RequestContext, targets: list[Target]) -> list[Target] | None:
    """The targets to try, in order, for this request (e.g. skip unhealthy ones).

    Runs once, after ``authorize``. Return a new list (never mutate ``targets``: routes
    are shared) or None to keep the route's order. Returning an empty list fails the
    request with 503. Stops at first non-None result; must be synchronous.
    """


# --- once per upstream attempt ---------------------------------------------------------


@hookspec
def prepare_request(ctx: RequestContext, attempt: Attempt) -> Any:
    """Adapt the canonical request for this attempt's target, in place.

    ``attempt.body`` is this attempt's own version of the client's body, free to mutate
    (the first attempt's is ``ctx.body`` itself; later attempts get a fresh parse), in
    OpenAI chat shape on chat routes and Anthropic shape on messages routes; ``attempt.target`` tells the
    provider account, upstream model and model info (capabilities). Feature plugins
    strip or translate what the target cannot take, and say so in
    ``attempt.response_headers`` (sent to the client if this attempt serves the
    request). All implementations run; may be async.
    """


@hookspec(firstresult=True)
def operation_bridge(ctx: RequestContext, attempt: Attempt) -> OperationBridge | None:
    """A way to serve ``ctx.operation`` on a target whose provider does not speak it.

    Runs per attempt, only when ``attempt.target.provider.supports(ctx.operation.name)``
    is false, before ``prepare_request``. Return an
    :class:`proxy_core.operations.OperationBridge` (e.g. Anthropic's Messages API served
    through the target's chat), or None; when nobody bridges, the client gets a 400
    saying the account does not support that API. With a bridge, ``prepare_request``,
    ``prepare_upstream_request``, ``transform_response`` and ``stream_transformer`` get a
    view of ``ctx`` whose ``operation`` is the bridged one and ``attempt.body`` in that
    operation's shape. Stops at first non-None result; must be synchronous.
    """


@hookspec
def prepare_upstream_request(ctx: RequestContext, attempt: Attempt, request: UpstreamRequest) -> Any:
    """Adjust the wire request the provider adapter built (headers, body), in place.

    Runs after translation, before sending. All implementations run; may be async.
    """


@hookspec(firstresult=True)
def retry_delay(ctx: RequestContext, attempt: Attempt, error: ProxyError) -> float | None:
    """After a failed attempt, before any byte reached the client: retry the same target?

    Return the seconds to wait before retrying it (0 for at once), or None not to retry
    (then ``should_fallback`` decides about the next target). ``attempt.retry`` counts
    the retries of this target so far. Stops at first non-None result; must be
    synchronous (the core does the waiting, and cancels it if the client leaves).
    """


@hookspec(firstresult=True)
def should_fallback(ctx: RequestContext, attempt: Attempt, error: ProxyError) -> bool | None:
    """After a failed attempt that has another target after it: try the next target?

    Runs only before any byte of the answer has reached the client. Return True or
    False to decide, None to leave it to the next implementation (the built-in default
    falls back on 429, 5xx, 529, timeouts and connection errors). Stops at first
    non-None result; must be synchronous.
    """


@hookspec
def transform_response(ctx: RequestContext, attempt: Attempt, response: dict[str, Any]) -> None:
    """Adapt a complete (non-stream) canonical response in place before it is rendered.

    All implementations run; must be synchronous.
    """


@hookspec
def stream_transformer(ctx: RequestContext, attempt: Attempt) -> Callable[[Any], list[Any]] | None:
    """Return a per-item function for this attempt's stream, or None (the usual answer).

    Called once per streaming attempt. A returned callable receives each canonical
    stream item (an OpenAI chunk dict on chat routes) and returns the items to pass on
    (zero, one or several). Only plugins that need per-chunk work should return one.
    Must be synchronous.
    """


@hookspec
def on_attempt_end(ctx: RequestContext, attempt: Attempt) -> None:
    """Observe the end of an attempt (``attempt.status``, ``attempt.error``).

    For health tracking and tracing. All implementations run; must be synchronous and
    cheap (it is on the request path).
    """


# --- responding and recording ----------------------------------------------------------


@hookspec
def response_headers(ctx: RequestContext, headers: dict[str, str]) -> None:
    """Add headers to the client's response, in place, just before it starts.

    Runs for successes and errors. All implementations run; must be synchronous.
    """


@hookspec
def on_request_end(ctx: RequestContext) -> Any:
    """Exactly once per request, after the response has been sent or has failed.

    ``ctx.outcome`` is "completed" or "failed"; ``ctx.status`` (499 when the client went
    away), ``ctx.usage``, ``ctx.attempts``, ``ctx.principal``, ``ctx.ttft_s`` and
    ``ctx.latency_s`` describe it. For spend records, traces and access logs: keep it
    cheap and hand slow work to a background writer. May return an awaitable.
    """
