"""proxy-core's Amazon Bedrock provider: Chat Completions <-> Converse, and Anthropic's
Messages API <-> InvokeModel for Claude models."""

from .provider import BedrockProvider

__all__ = ["BedrockProvider"]
