"""Retries, fallback, timeouts, passive health and a global retry budget."""
