"""Cost per request, spend records, ``GET /admin/spend``.

Config (``plugins.cost``, every field optional)::

    cost:
      store: sqlite:///var/lib/proxy-core/spend.db   # or postgresql://user@host/db
      table: spend
      batch_size: 500
      flush_interval_s: 0.5
      max_buffer: 100000
      shutdown_timeout_s: 15
      spill_path: /var/lib/proxy-core/spend-unwritten.jsonl
      journal: var/lib/proxy-core/spend-journal.jsonl   # default: see default_journal; false = off
      headers: true

Response headers (non-stream responses, when the upstream reported usage):
``x-proxy-core-cost-usd`` is the request's cost in USD (a decimal string), absent
when the cost is not known (the model has no price). The core's
``x-proxy-core-target`` names the ``account/model`` that served. Streams start before their usage is known: their cost
is in the spend record, the trace and the access log.

Other plugins read the request's :class:`~proxy_core_cost.record.Charge` from
``ctx.state["cost"]`` in their ``on_request_end`` (this plugin's runs first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from proxy_core import RequestContext, hookimpl
from proxy_core.config import ConfigError
from proxy_core.gateway import Gateway

from . import record
from .admin import spend_endpoint
from .prices import PriceTable
from .store import Store, open_store
from .writer import SpendWriter

log = structlog.get_logger("proxy_core.cost")

NAME = "cost"
DEFAULT_STORE = "sqlite:///var/lib/proxy-core/spend.db"
COST_HEADER = "x-proxy-core-cost-usd"
_PRICES = PriceTable.shipped()


@dataclass
class CostState:
    store: Store
    writer: SpendWriter
    prices: PriceTable
    headers: bool


def default_journal(store: Store) -> str | None:
    """Beside a SQLite file (``spend.db`` -> ``spend-journal.jsonl``); for PostgreSQL,
    ``var/lib/proxy-core/<table>-journal.jsonl`` under the working directory."""
    path = getattr(store, "path", None)
    if path == ":memory:":
        return None
    if path is not None:
        db = Path(path)
        return str(db.with_name(f"{db.stem}-journal.jsonl"))
    return f"var/lib/proxy-core/{store.table}-journal.jsonl"


def make_state(section: dict[str, Any], *, journal: bool = True) -> CostState:
    """``journal=False``: a reader (the CLI) that must not replay or write the journal."""
    try:
        store = open_store(str(section.get("store") or DEFAULT_STORE), str(section.get("table") or "spend"))
        setting = section.get("journal")
        if setting is False or not journal:
            journal_path = None
        elif setting is None or setting is True:
            journal_path = default_journal(store)
        else:
            journal_path = str(setting)
        writer = SpendWriter(
            store,
            batch_size=int(section.get("batch_size", 500)),
            flush_interval_s=float(section.get("flush_interval_s", 0.5)),
            max_buffer=int(section.get("max_buffer", 100_000)),
            shutdown_timeout_s=float(section.get("shutdown_timeout_s", 15.0)),
            spill_path=section.get("spill_path"),
            journal_path=journal_path,
        )
    except (TypeError, ValueError) as e:
        raise ConfigError([f"plugins.cost: {e}"]) from None
    prices = PriceTable(_PRICES.models, _PRICES.sources)
    return CostState(store, writer, prices, headers=section.get("headers", True) is not False)


def _state(gateway: Gateway) -> CostState | None:
    state: CostState | None = gateway.state.get(NAME)
    return state


@hookimpl
def register_routes(register: Callable[..., None], gateway: Gateway) -> None:
    register("/admin/spend", spend_endpoint(gateway), methods=["GET"])


@hookimpl
async def gateway_started(gateway: Gateway) -> None:
    state = make_state(gateway.config.plugin_section(NAME))
    try:
        await state.store.open()
    except Exception as e:  # the writer keeps retrying: records wait in the buffer
        log.error("spend.store_unavailable", store=_redact(state.store.url), error=f"{type(e).__name__}: {e}"[:300])
    state.writer.start()
    gateway.state[NAME] = state
    journal = state.writer.journal
    log.info(
        "spend.store_open",
        store=_redact(state.store.url),
        table=state.store.table,
        journal=str(journal.path) if journal else None,
    )


@hookimpl
async def gateway_stopping(gateway: Gateway) -> None:
    state = _state(gateway)
    if state is not None:
        await state.writer.close()
        log.info("spend.store_closed", **state.writer.describe())


@hookimpl
def response_headers(ctx: RequestContext, headers: dict[str, str]) -> None:
    state = _state(ctx.gateway)
    if state is None or not state.headers or ctx.usage is None or ctx.stream:
        return
    bill = record.charge(ctx, state.prices)
    if bill.cost_usd is not None:  # never "0" for a cost nobody knows
        headers[COST_HEADER] = f"{bill.cost_usd:.10f}".rstrip("0").rstrip(".")


@hookimpl(tryfirst=True)
def on_request_end(ctx: RequestContext) -> Awaitable[None] | None:
    """Sync unless the spend buffer is full: then the core awaits the wait for room."""
    state = _state(ctx.gateway)
    if state is None:
        return None
    if ctx.principal is None:
        return None  # unauthenticated: nobody to bill, nothing was sent upstream
    bill = record.charge(ctx, state.prices)
    spend = record.build(ctx, bill)
    if state.writer.put_nowait(spend):
        return None
    return state.writer.put(spend)


def _redact(url: str) -> str:
    """A store URL without its password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
