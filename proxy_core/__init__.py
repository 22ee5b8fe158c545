"""proxy-core: an LLM gateway framework (OpenAI Chat Completions + Anthropic Messages)."""

from .config import ConfigError, GatewayConfig
from .context import Attempt, Principal, RequestContext, Route, Target, UpstreamRequest
from .gateway import Gateway
from .hookspecs import hookimpl
from .provider import Provider, StreamTranslator

__version__ = "0.1.0"

__all__ = [
    "Attempt",
    "ConfigError",
    "Gateway",
    "GatewayConfig",
    "Principal",
    "Provider",
    "RequestContext",
    "Route",
    "StreamTranslator",
    "Target",
    "UpstreamRequest",
    "hookimpl",
]
