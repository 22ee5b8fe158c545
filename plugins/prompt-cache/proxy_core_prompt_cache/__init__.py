"""proxy-core feature plugin: cache_control forwarded, stripped or translated, per target."""
