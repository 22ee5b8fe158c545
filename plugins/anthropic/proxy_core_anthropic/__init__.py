"""proxy-core's Anthropic provider: Chat Completions <-> Messages, native passthrough."""

from .provider import AnthropicProvider

__all__ = ["AnthropicProvider"]
