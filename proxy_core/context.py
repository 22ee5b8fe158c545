"""What a request carries through the pipeline: principal, route, targets, attempts."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import ProxyError
    from .gateway import Gateway
    from .operations import Operation
    from .provider import Provider


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is calling: the gateway key's name (never the key), user, teams, rights."""

    name: str
    user: str | None = None
    teams: tuple[str, ...] = ()
    admin: bool = False
    models: tuple[str, ...] | None = None  # glob allow-list; None = everything
    # A run-time key's own limits ({"rpm": .., "tpm": .., "budget_usd": {...}}), for the limits plugin.
    limits: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)

    def may_use(self, *names: str) -> bool:
        if self.models is None:
            return True
        return any(fnmatchcase(n, pattern) for n in names for pattern in self.models)

    def role_on(self, provider: Provider) -> str | None:
        """This caller's role on a provider account: "manager" (may also change its models),
        "user" (may call them) or None (no access). Accounts without a ``collaborators``
        list are open to every key; admins manage everything."""
        if self.admin:
            return "manager"
        collaborators = provider.settings.collaborators
        if collaborators is None:
            return "user"
        role = None
        for c in collaborators:
            kind, _, name = c.subject.partition(":")
            if (kind == "user" and name == self.user) or (kind == "team" and name in self.teams):
                if c.role == "manager":
                    return "manager"
                role = "user"
        return role


@dataclass(slots=True)
class Target:
    """One provider account + upstream model, with the model's info (prices, capabilities)."""

    account: str
    model: str
    provider: Provider
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.account}/{self.model}"


@dataclass(slots=True)
class Route:
    """What a client's ``model`` resolved to: targets tried in order."""

    name: str
    targets: list[Target]
    alias: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # extra keys of routes.<alias>, for plugins


@dataclass(slots=True)
class UpstreamRequest:
    """The wire request a provider adapter built; plugins may adjust it before sending."""

    method: str
    url: str
    headers: dict[str, str]
    json: Any = None
    content: bytes | None = None
    stream: bool = False


@dataclass(slots=True)
class Timeouts:
    """Per-attempt limits in seconds (None = the account's httpx timeouts apply).

    ``connect``: TCP/TLS connect; ``first_token``: streams only, from sending until the
    first substantive item (a fallback point when exceeded); ``idle``: the longest
    silence between upstream reads (the httpx read timeout of this attempt).
    A whole-request limit is armed by plugins with ``ctx.abort`` and a timer.
    """

    connect: float | None = None
    first_token: float | None = None
    idle: float | None = None


_id_process = os.urandom(5).hex()
_id_counter = itertools.count()


def _new_id_process() -> None:
    global _id_process
    _id_process = os.urandom(5).hex()


os.register_at_fork(after_in_child=_new_id_process)


def new_request_id() -> str:
    """``req_`` + 32 hex digits: the time in ms, 40 random bits drawn once per process,
    and a per-process counter: unique without a random draw (a syscall) per request, and
    time-ordered, so the spend stores' unique index grows at its end (with random ids
    SQLite's insert cost grew 4x by 400k rows: 2.5 -> 13.7 us per row)."""
    return f"req_{time.time_ns() // 1_000_000:012x}{_id_process}{next(_id_counter) & 0xFF_FFFF_FFFF:010x}"


@dataclass(slots=True)
class Attempt:
    """One try of one target. ``body`` is this attempt's own: the first attempt's is the
    parsed client body, later ones are fresh parses of the client's bytes."""

    index: int
    target: Target
    body: dict[str, Any]
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    status: int | None = None
    error: ProxyError | None = None
    upstream_request: UpstreamRequest | None = None
    timeouts: Timeouts | None = None  # set by prepare_request implementations (fallback plugin)
    # Headers for the client's response, sent when this attempt is the one that served.
    response_headers: dict[str, str] = field(default_factory=dict)
    retry: int = 0  # 0 for the first try of a target, then 1, 2... for retries of it
    # Feature plugins leave notes for the response (e.g. a header saying what was dropped).
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)  # compared and hashed by identity
class RequestContext:
    """One client request from receive to record."""

    gateway: Gateway
    operation: Operation
    headers: dict[str, str]  # lower-cased client headers
    path: str
    body: dict[str, Any] = field(default_factory=dict)
    method: str = "POST"  # client operations are POSTs; plugin routes (/files) set theirs
    raw_body: bytes = b""  # the client's bytes: later attempts parse their own copy from it
    request_id: str = field(default_factory=new_request_id)
    started: float = field(default_factory=time.monotonic)
    started_wall: float = field(default_factory=time.time)
    client_key: str | None = None  # the raw gateway key; auth plugins only, never logged
    principal: Principal | None = None
    requested_model: str | None = None
    route: Route | None = None
    attempts: list[Attempt] = field(default_factory=list)
    stream: bool = False
    status: int | None = None
    outcome: str | None = None  # "completed" | "failed"
    error: ProxyError | None = None
    usage: dict[str, Any] | None = None  # OpenAI names, whatever the route (Provider.usage_of)
    # Where ``usage`` came from: "upstream" (the provider reported it) or "estimated" (the
    # client left before the provider's usage arrived; output counted from what was relayed).
    usage_source: str | None = None
    first_token_at: float | None = None
    # What a stream has relayed: answer characters (for a usage estimate when the client
    # leaves early) and whether the answer's end (a finish reason) went out.
    relayed_chars: int = 0
    answer_complete: bool = False
    ended: float | None = None
    client_closed: bool = False
    response_headers: dict[str, str] = field(default_factory=dict)
    # Set when the gateway ends the request itself (total timeout, shutdown grace over).
    abort_error: ProxyError | None = None
    abort: Callable[[ProxyError], None] | None = None
    # Scratch space for plugins, keyed by plugin name.
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return self.operation.api

    @property
    def served_by(self) -> Attempt | None:
        """The attempt whose answer the client got (the last successful one)."""
        for attempt in reversed(self.attempts):
            if attempt.error is None and attempt.status is not None and attempt.status < 400:
                return attempt
        return None

    @property
    def latency_s(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    @property
    def ttft_s(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.started
