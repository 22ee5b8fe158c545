"""Passive health: a target that fails ``failures`` times within ``window_s`` is skipped
for ``cooldown_s``, then tried again. A success clears its record."""

from __future__ import annotations

import time
from collections import deque

from .policy import Health


class HealthBook:
    def __init__(self, settings: Health) -> None:
        self.settings = settings
        self._failures: dict[str, deque[float]] = {}
        self._cooling_until: dict[str, float] = {}

    def failed(self, target: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        window = self._failures.setdefault(target, deque(maxlen=self.settings.failures))
        window.append(now)
        if len(window) == self.settings.failures and now - window[0] <= self.settings.window_s:
            self._cooling_until[target] = now + self.settings.cooldown_s
            window.clear()

    def succeeded(self, target: str) -> None:
        self._failures.pop(target, None)
        self._cooling_until.pop(target, None)

    def any_cooling(self) -> bool:
        """False when no target is cooling down (a cool-down that ended may still count)."""
        return bool(self._cooling_until)

    def cooling_until(self, target: str, now: float | None = None) -> float | None:
        until = self._cooling_until.get(target)
        if until is None:
            return None
        if (time.monotonic() if now is None else now) >= until:
            del self._cooling_until[target]  # cool-down over: try it again
            return None
        return until
