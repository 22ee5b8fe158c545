"""A global retry budget: retries may add at most ``ratio`` of the request rate (plus
``min_per_s``), so a failing provider never sees a retry storm."""

from __future__ import annotations

import time

from .policy import RetryBudget


class RetryBucket:
    def __init__(self, settings: RetryBudget) -> None:
        self.settings = settings
        self.capacity = max(1.0, settings.min_per_s)
        self.tokens = self.capacity
        self._at = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.settings.min_per_s)
        self._at = now

    def on_request(self) -> None:
        self._refill()
        self.tokens = min(self.capacity + 100 * self.settings.ratio, self.tokens + self.settings.ratio)

    def take(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
