"""proxy-core batches: Message Batches (Anthropic) and Batch API (OpenAI) passthrough."""
