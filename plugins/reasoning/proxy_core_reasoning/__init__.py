"""proxy-core feature plugin: reasoning_effort -> thinking parameters, per target."""
