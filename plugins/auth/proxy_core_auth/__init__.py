"""Gateway keys from ``auth.keys``: accepted as ``x-api-key`` or ``Authorization: Bearer``."""
