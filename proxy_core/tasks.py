"""Fire-and-forget tasks that are never garbage-collected mid-flight.

Use ``spawn`` instead of ``asyncio.create_task`` (ruff bans the bare call): the event
loop keeps only weak references to tasks, so an unreferenced task can vanish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_background: set[asyncio.Task[Any]] = set()


def spawn(coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
    task = asyncio.get_running_loop().create_task(coro, name=name)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task
