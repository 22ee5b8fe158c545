"""proxy-core's Google Vertex AI provider: Gemini and Claude models of one account."""

from .provider import VertexProvider

__all__ = ["VertexProvider"]
