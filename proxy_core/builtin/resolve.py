"""Default model resolution: ``account/model``, ``@account/model`` and route aliases.

The gateway compiles every valid name into ``gateway.route_table`` at start-up, so a
lookup is one dict access. Routes are shared between requests: treat them as read-only.
"""

from __future__ import annotations

from ..context import RequestContext, Route
from ..errors import NotFoundError
from ..hookspecs import hookimpl


@hookimpl(trylast=True)
def resolve_model(ctx: RequestContext, name: str) -> Route:
    route = ctx.gateway.route_table.get(name)
    if route is not None:
        return route
    account, sep, model = name.lstrip("@").partition("/")
    providers = ctx.gateway.providers
    if sep and account in providers:
        raise NotFoundError(
            f"The model '{name}' does not exist: provider account '{account}' has no model '{model}'", param="model"
        )
    if sep:
        raise NotFoundError(f"The model '{name}' does not exist: unknown provider account '{account}'", param="model")
    raise NotFoundError(
        f"The model '{name}' does not exist: use 'account/model' or a route alias (GET /v1/models lists them)",
        param="model",
    )
