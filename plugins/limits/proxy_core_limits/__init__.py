"""proxy-core rate limits and budgets (``plugins.limits``)."""
