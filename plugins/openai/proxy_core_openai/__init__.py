"""OpenAI and OpenAI-compatible upstreams (provider type ``openai``)."""
