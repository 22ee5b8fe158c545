"""Which provider account a /files request goes to, and may the caller use it.

The account is named by a header: proxy-core's own ``x-proxy-core-account`` or, for
drop-in compatibility with clients written for another gateway, ``x-tfy-provider-name``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proxy_core_anthropic.provider import AnthropicProvider
from proxy_core_openai.provider import OpenAIProvider

from proxy_core import Principal
from proxy_core.errors import InvalidRequestError, NotFoundError, PermissionDeniedError

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway
    from proxy_core.provider import Provider

ACCOUNT_HEADER = "x-proxy-core-account"
COMPAT_HEADER = "x-tfy-provider-name"
ACCOUNT_HEADERS = (ACCOUNT_HEADER, COMPAT_HEADER)

ANTHROPIC = "anthropic"
OPENAI = "openai"


def wire_of(provider: Provider) -> str | None:
    """The Files API an account speaks: Anthropic's (any Anthropic-wire provider) or OpenAI's."""
    if isinstance(provider, AnthropicProvider):
        return ANTHROPIC
    if isinstance(provider, OpenAIProvider):
        return OPENAI
    return None


def account_name(headers: dict[str, str]) -> str:
    for name in ACCOUNT_HEADERS:
        value = headers.get(name, "").strip()
        if value:
            return value
    raise InvalidRequestError(
        f"the Files API needs the provider account in the '{ACCOUNT_HEADER}' header "
        f"(or '{COMPAT_HEADER}'), e.g. '{ACCOUNT_HEADER}: anthropic-main'",
        param=ACCOUNT_HEADER,
        code="missing_provider_account",
    )


def may_use_account(gateway: Gateway, principal: Principal, account: str) -> bool:
    """The chat rule: a caller may use an account when it has a role on it (the account's
    collaborators, if it lists any) and may use a model name (or a route alias) that
    reaches it, or ``<account>/*``."""
    provider = gateway.providers.get(account)
    if provider is None or principal.role_on(provider) is None:
        return False
    if principal.models is None or principal.may_use(f"{account}/*"):
        return True
    for name, route in gateway.route_table.items():
        if any(t.account == account for t in route.targets) and principal.may_use(name):
            return True
    return False


def select_account(gateway: Gateway, headers: dict[str, str], principal: Principal) -> tuple[str, Provider, str]:
    """(account, provider, wire) for this request, or the error in OpenAI shape."""
    name = account_name(headers)
    provider = gateway.providers.get(name)
    header = next(h for h in ACCOUNT_HEADERS if headers.get(h, "").strip())
    if provider is None:
        raise NotFoundError(
            f"no provider account {name!r} (named by the '{header}' header)",
            param=header,
            code="provider_account_not_found",
        )
    if not may_use_account(gateway, principal, name):
        raise PermissionDeniedError(f"key '{principal.name}' may not use provider account {name!r}", param=header)
    wire = wire_of(provider)
    if wire is None:
        raise InvalidRequestError(
            f"provider account {name!r} (type {provider.type_name!r}) has no Files API; "
            "use an Anthropic-wire or OpenAI account",
            param=header,
            code="files_not_supported",
        )
    provider.check_available()
    return name, provider, wire
