"""Where counters live: Redis (shared by every replica) or this process's memory.

Both stores have one semantics (see ``scripts``): admission checks every limit of a
request and reserves on all of them only if all allow, atomically; settlement replaces
reservations with real amounts and releases concurrency slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from proxy_core.tasks import spawn

from .rules import CONCURRENCY, DAY, MONTH, RPM, TPM, Limit
from .scripts import RENEW, SETTLE_THEN_ADMIT, WINDOW_MS


class StoreUnavailable(Exception):
    """The store could not be reached or did not answer in time."""


@dataclass(slots=True)
class Check:
    limit: Limit
    amount: int  # this request's reservation on it


@dataclass(slots=True)
class Decision:
    admitted: bool
    refused: int | None  # index of the first refusing check
    now_ms: int
    day: int  # UTC days since the epoch
    month: int  # UTC year * 12 + month - 1
    used: list[int]  # before this request, per check
    frees_ms: list[int]  # until the oldest entry leaves the window (rpm, tpm), per check


@dataclass(slots=True)
class Settlement:
    """What replaces a request's reservations: per check, the real amount (None: keep)."""

    ops: list[tuple[str, str, int]] = field(default_factory=list)  # (op, key, amount)


def settlement(checks: list[Check], decision: Decision, tokens: int, nano_usd: int) -> Settlement:
    """Real tokens replace the tpm reservations, the real cost the budget ones; slots go back."""
    out = Settlement()
    for check in checks:
        limit = check.limit
        if limit.kind == TPM:
            out.ops.append(("tpm", limit.key, tokens))
        elif limit.kind == CONCURRENCY:
            out.ops.append(("release", limit.key, 0))
        elif limit.kind == DAY:
            out.ops.append(("add", f"{limit.key}:d:{decision.day}", nano_usd - check.amount))
        elif limit.kind == MONTH:
            out.ops.append(("add", f"{limit.key}:m:{decision.month}", nano_usd - check.amount))
    return out


# Told how a settlement ended: None once applied, else the store's error.
SettleDone = Callable[[StoreUnavailable | None], None]


class Store(Protocol):
    async def start(self) -> None: ...
    async def admit(self, request_id: str, checks: list[Check]) -> Decision: ...
    # Not awaited: the response has gone out, nothing waits for the answer (``done`` gets
    # it); ``close`` still applies every settlement handed over before it.
    def settle(self, request_id: str, settlement: Settlement, done: SettleDone) -> None: ...
    async def renew(self, leases: list[tuple[str, str]]) -> None: ...
    async def close(self) -> None: ...


def _utc_day_month(now_ms: int) -> tuple[int, int]:
    day = now_ms // 86_400_000
    t = time.gmtime(now_ms / 1000)
    return day, t.tm_year * 12 + t.tm_mon - 1


class MemoryStore:
    """This process only (no ``redis``). Admission has no ``await`` inside: on one event
    loop it runs whole, so concurrent requests cannot interleave a check and a reserve."""

    def __init__(self) -> None:
        self.rpm: dict[str, deque[int]] = {}
        self.tpm: dict[str, OrderedDict[str, tuple[int, int]]] = {}  # id -> (time, tokens)
        self.tpm_total: dict[str, int] = {}
        self.slots: dict[str, set[str]] = {}
        self.usd: dict[str, int] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def renew(self, leases: list[tuple[str, str]]) -> None:
        return None  # slots of this process end with it: nothing to expire

    def _window(self, limit: Limit, now: int) -> tuple[int, int]:
        """(used, ms until the oldest entry leaves) after dropping what left the window."""
        if limit.kind == RPM:
            log = self.rpm.setdefault(limit.key, deque())
            while log and log[0] <= now - WINDOW_MS:
                log.popleft()
            return len(log), (log[0] + WINDOW_MS - now) if log else 0
        entries = self.tpm.setdefault(limit.key, OrderedDict())
        total = self.tpm_total.get(limit.key, 0)
        while entries:
            rid, (at, tokens) = next(iter(entries.items()))
            if at > now - WINDOW_MS:
                break
            del entries[rid]
            total -= tokens
        self.tpm_total[limit.key] = total
        oldest = next(iter(entries.values()))[0] if entries else None
        return total, (oldest + WINDOW_MS - now) if oldest is not None else 0

    async def admit(self, request_id: str, checks: list[Check]) -> Decision:
        now = int(time.time() * 1000)
        day, month = _utc_day_month(now)
        used: list[int] = []
        frees: list[int] = []
        refused: int | None = None
        for i, check in enumerate(checks):
            limit = check.limit
            free = 0
            if limit.kind in (RPM, TPM):
                u, free = self._window(limit, now)
            elif limit.kind == CONCURRENCY:
                u = len(self.slots.get(limit.key, ()))
            else:
                u = self.usd.get(self._period_key(limit, day, month), 0)
            used.append(u)
            frees.append(free)
            if refused is None and u + check.amount > limit.limit:
                refused = i
        if refused is None:
            for check in checks:
                self._reserve(request_id, check, now, day, month)
        return Decision(refused is None, refused, now, day, month, used, frees)

    @staticmethod
    def _period_key(limit: Limit, day: int, month: int) -> str:
        return f"{limit.key}:d:{day}" if limit.kind == DAY else f"{limit.key}:m:{month}"

    def _reserve(self, request_id: str, check: Check, now: int, day: int, month: int) -> None:
        limit = check.limit
        if limit.kind == RPM:
            self.rpm[limit.key].append(now)
        elif limit.kind == TPM:
            self.tpm[limit.key][request_id] = (now, check.amount)
            self.tpm_total[limit.key] += check.amount
        elif limit.kind == CONCURRENCY:
            self.slots.setdefault(limit.key, set()).add(request_id)
        else:
            key = self._period_key(limit, day, month)
            self.usd[key] = self.usd.get(key, 0) + check.amount

    def settle(self, request_id: str, settlement: Settlement, done: SettleDone) -> None:
        self._apply(request_id, settlement)
        done(None)

    def _apply(self, request_id: str, settlement: Settlement) -> None:
        for op, key, amount in settlement.ops:
            if op == "tpm":
                entries = self.tpm.get(key)
                if entries is not None and request_id in entries:
                    at, old = entries[request_id]
                    entries[request_id] = (at, amount)
                    self.tpm_total[key] += amount - old
            elif op == "release":
                self.slots.get(key, set()).discard(request_id)
            elif key in self.usd:
                self.usd[key] += amount


class _Batcher:
    """Group commit: items submitted while a call is in flight go together in the next
    call. Idle, an item goes alone at once; under load one Redis call serves many
    requests, so the client-side cost per request falls (and each request still waits
    for at most one round trip after the one in flight)."""

    def __init__(self, run: Callable[[list[Any]], Awaitable[None]], max_batch: int = 256) -> None:
        self.run = run
        self.max_batch = max_batch
        self.pending: list[Any] = []
        self.task: asyncio.Task[None] | None = None

    def submit(self, item: Any) -> None:
        self.pending.append(item)
        if self.task is None:
            self.task = spawn(self._flush(), name="limits-store-batch")

    async def _flush(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
                await self.run(batch)
        finally:
            self.task = None

    async def drain(self) -> None:
        while self.task is not None:
            await asyncio.shield(self.task)


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: no "exception never retrieved" noise


def _report(settling: list[tuple[str, Settlement, SettleDone | None]], error: StoreUnavailable | None) -> None:
    for _, _, done in settling:
        if done is not None:
            done(error)


def _packing_in_c(connection_class: type[Any]) -> type[Any]:
    """``connection_class`` packing commands with hiredis (C), as redis-py's sync client
    does; its asyncio connections pack in Python, argument by argument, which showed in
    profiles. Set on the pool (not passed to ``from_url``) so that unix:// and rediss://
    URLs, whose connection classes the URL picks, get it too."""
    try:
        import hiredis
    except ImportError:
        return connection_class

    class HiredisPacking(connection_class):  # type: ignore[misc]
        def pack_command(self, *args: Any) -> list[bytes]:
            name = args[0]
            if isinstance(name, str) and " " not in name:
                with contextlib.suppress(TypeError):  # bytearray, bool...: redis-py's packer decides
                    return [hiredis.pack_command(args)]
            return list(super().pack_command(*args))  # also splits names like "SCRIPT LOAD"

    HiredisPacking.__name__ = HiredisPacking.__qualname__ = f"HiredisPacking{connection_class.__name__}"
    return HiredisPacking


# What the batcher holds: an admission awaiting its decision, or a settlement (with whom
# to tell how it ended; None for the store's own undo of an abandoned admission).
_Admitting = tuple[str, list[Check], "asyncio.Future[Decision]"]
_Settling = tuple[str, Settlement, SettleDone | None]


class RedisStore:
    """Counters in Redis: one script call settles and admits (see ``scripts``) for all
    the requests that arrived while the previous call was in flight (``_Batcher``)."""

    def __init__(self, url: str, *, timeout_s: float, lease_ms: int) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # One retry: after a Redis restart the pool's first connection is dead and the
        # retry reconnects; while Redis is down a call fails within the timeout.
        self.redis: Any = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 1),
            max_connections=64,
        )
        pool = self.redis.connection_pool
        pool.connection_class = _packing_in_c(pool.connection_class)
        # EVALSHA; after a Redis restart the NOSCRIPT answer makes it load the script again.
        self._settle_then_admit = self.redis.register_script(SETTLE_THEN_ADMIT)
        self._renew = self.redis.register_script(RENEW)
        self.lease_ms = lease_ms
        # Settlements ride in the admissions' calls: one round trip serves both.
        self._batches = _Batcher(self._run_batch)

    async def start(self) -> None:
        for script in (self._settle_then_admit, self._renew):
            await self._call(self.redis.script_load, script.script)

    async def close(self) -> None:
        await self._batches.drain()
        await self.redis.aclose()

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import redis.exceptions

        try:
            return await fn(*args, **kwargs)
        except (redis.exceptions.RedisError, OSError) as e:
            raise StoreUnavailable(f"{type(e).__name__}: {e}"[:300]) from None

    async def admit(self, request_id: str, checks: list[Check]) -> Decision:
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._batches.submit((request_id, checks, future))
        return await future

    def settle(self, request_id: str, plan: Settlement, done: SettleDone) -> None:
        if plan.ops:
            self._batches.submit((request_id, plan, done))
        else:
            done(None)

    async def _run_batch(self, batch: list[Any]) -> None:
        settling: list[_Settling] = [item for item in batch if isinstance(item[1], Settlement)]
        admitting: list[_Admitting] = [item for item in batch if not isinstance(item[1], Settlement)]
        keys: list[str] = []
        args: list[Any] = [self.lease_ms, len(settling)]
        for request_id, plan, _ in settling:
            args += [request_id, len(plan.ops)]
            for op, key, amount in plan.ops:
                args += [op, amount]
                keys.append(key)
        args.append(len(admitting))
        for request_id, checks, _ in admitting:
            args += [request_id, len(checks)]
            for check in checks:
                args += [check.limit.kind, check.limit.limit, check.amount]
                keys.append(check.limit.key)
        try:
            reply = await self._call(self._settle_then_admit, keys=keys, args=args)
        except StoreUnavailable as e:
            _report(settling, e)
            for _, _, future in admitting:
                if not future.done():
                    future.set_exception(e)
                    _consume(future)
            return
        _report(settling, None)
        self._decide(admitting, reply)

    def _decide(self, admitting: list[_Admitting], reply: list[Any]) -> None:
        now, day, month = int(reply[0]), int(reply[1]), int(reply[2])
        at = 3
        for request_id, checks, future in admitting:
            n = len(checks)
            refused = int(reply[at])
            decision = Decision(
                admitted=refused == 0,
                refused=refused - 1 if refused else None,
                now_ms=now,
                day=day,
                month=month,
                used=[int(v) for v in reply[at + 1 : at + 1 + n]],
                frees_ms=[int(v) for v in reply[at + 1 + n : at + 1 + 2 * n]],
            )
            at += 1 + 2 * n
            if not future.done():
                future.set_result(decision)
            elif decision.admitted:  # its client left while the call was in flight: undo
                self._batches.submit((request_id, settlement(checks, decision, 0, 0), None))

    async def renew(self, leases: list[tuple[str, str]]) -> None:
        if leases:
            await self._call(
                self._renew, keys=[key for key, _ in leases], args=[self.lease_ms, *(rid for _, rid in leases)]
            )
