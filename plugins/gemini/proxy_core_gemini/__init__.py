"""proxy-core's Gemini provider: Chat Completions <-> generateContent."""

from .parts import UriPolicy
from .provider import GeminiProvider

__all__ = ["GeminiProvider", "UriPolicy"]
