"""Claude Platform on AWS upstreams (provider type ``aws-claude-platform``)."""

from __future__ import annotations

from collections.abc import Callable

from proxy_core import RequestContext, Route, hookimpl

from .provider import BEDROCK_PREFIX, AwsClaudePlatformProvider, bedrock_id_error


@hookimpl
def register_providers(register: Callable[[str, type], None]) -> None:
    register(AwsClaudePlatformProvider.type_name, AwsClaudePlatformProvider)


@hookimpl
def resolve_model(ctx: RequestContext, name: str) -> Route | None:
    """A Bedrock-style id asked of a Claude Platform account: a 400 that explains, not a 404."""
    if name in ctx.gateway.route_table:
        return None
    account, sep, model = name.lstrip("@").partition("/")
    provider = ctx.gateway.providers.get(account) if sep else None
    if isinstance(provider, AwsClaudePlatformProvider) and model.startswith(BEDROCK_PREFIX):
        raise bedrock_id_error(model)
    return None
