"""proxy-core files plugin: OpenAI-compatible /files over Anthropic's Files API and OpenAI's."""
