"""proxy-core's Azure OpenAI provider: deployment URLs, api-version, api-key or Entra ID."""

from .provider import AzureOpenAIProvider

__all__ = ["AzureOpenAIProvider"]
