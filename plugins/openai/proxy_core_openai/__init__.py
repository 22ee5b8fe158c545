"""OpenAI and OpenAI-compatible upstreams (provider type ``openai``), and the shared base
of the OpenAI-compatible family (``groq``, ``xai``, ``mistral``... each its own plugin)."""

from .compatible import DROPPED_HEADER, KeyedProviderConfig, OpenAICompatibleProvider, strip_message_fields
from .provider import OpenAIProvider, OpenAIStream

__all__ = [
    "DROPPED_HEADER",
    "KeyedProviderConfig",
    "OpenAICompatibleProvider",
    "OpenAIProvider",
    "OpenAIStream",
    "strip_message_fields",
]
