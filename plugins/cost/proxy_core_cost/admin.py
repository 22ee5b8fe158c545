"""``GET /admin/spend``: spend totals, optionally grouped, for admin keys only.

Query parameters: ``group_by`` (key, user, team, model, account, route, day), and the
filters ``since`` / ``until`` (``YYYY-MM-DD`` or an ISO date-time, UTC; ``until`` is
exclusive), ``key``, ``user``, ``model``. Pending records are written before the query,
so the answer includes every finished request. A request by a key in several teams
counts in each of its teams' rows; the total counts it once.

Rows whose cost is not known (``cost_usd`` NULL: the model has no price, or the usage
is unknown) add nothing to any ``cost_usd``; each group counts them in
``unpriced_requests``, and the top-level ``unpriced`` lists them by account, model and
reason with their tokens, so they can be priced by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from proxy_core.endpoints import authenticate_headers
from proxy_core.errors import ProxyError

from .store import GROUPS

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway

    from .plugin import CostState

log = structlog.get_logger("proxy_core.cost")

_FILTERS = {"key": "key_name", "user": "user_name", "model": "model"}


class BadQuery(ValueError):
    pass


def _when(value: str, name: str) -> float:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise BadQuery(f"'{name}' must be a date (YYYY-MM-DD) or an ISO date-time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_query(params: dict[str, str]) -> tuple[str | None, list[tuple[str, str, Any]]]:
    group_by = params.get("group_by") or None
    if group_by is not None and group_by not in GROUPS:
        raise BadQuery(f"'group_by' must be one of: {', '.join(GROUPS)}")
    where: list[tuple[str, str, Any]] = []
    if params.get("since"):
        where.append(("ts", ">=", _when(params["since"], "since")))
    if params.get("until"):
        where.append(("ts", "<", _when(params["until"], "until")))
    for param, col in _FILTERS.items():
        if params.get(param):
            where.append((col, "=", params[param]))
    return group_by, where


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, Decimal):
            v = int(v) if v == v.to_integral_value() else float(v)
        out[k] = v
    out["cost_usd"] = round(float(out.get("cost_usd") or 0.0), 10)
    for k in ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
        out[k] = int(out.get(k) or 0)
    out["reasoning_tokens"] = int(out.get("reasoning_tokens") or 0)
    out["unpriced_requests"] = int(out.get("unpriced_requests") or 0)
    out["estimated_requests"] = int(out.get("estimated_requests") or 0)
    return out


_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")


def _unpriced_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_model = [
        {
            "account": r["account"],
            "model": r["model"],
            "reason": r["reason"],
            "requests": int(r["requests"] or 0),
            **{k: int(r[k] or 0) for k in _TOKENS},
        }
        for r in rows
    ]
    summary: dict[str, Any] = {k: sum(m[k] for m in by_model) for k in ("requests", *_TOKENS)}
    summary["by_model"] = by_model
    return summary


def _by_team(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    teams: dict[str, dict[str, Any]] = {}
    for row in rows:
        for team in (row.pop("grp") or "").split(","):
            if not team:
                continue
            acc = teams.setdefault(team, {"team": team})
            for k, v in row.items():
                acc[k] = acc.get(k, 0) + v
    for acc in teams.values():
        acc["cost_usd"] = round(acc["cost_usd"], 10)
    return [teams[t] for t in sorted(teams)]


async def spend_report(state: CostState, params: dict[str, str]) -> dict[str, Any]:
    group_by, where = parse_query(params)
    await state.writer.flush()
    rows, total = await state.store.query(group_by, where)
    plain = [_plain(r) for r in rows]
    if group_by == "team":
        plain = _by_team(plain)
    elif group_by is not None:
        for row in plain:
            row[group_by] = row.pop("grp")
    unpriced = _unpriced_summary(await state.store.unpriced(where))
    return {"group_by": group_by, "rows": plain, "total": _plain(total), "unpriced": unpriced}


def spend_endpoint(gateway: Gateway) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            await authenticate_headers(gateway, request.headers, request.url.path, admin=True)
        except ProxyError as e:
            return Response(e.body_for("openai"), e.status, media_type="application/json")
        state: CostState | None = gateway.state.get("cost")
        if state is None:
            return _error(503, "spend tracking is not running")
        try:
            report = await spend_report(state, dict(request.query_params))
        except BadQuery as e:
            return _error(400, str(e))
        except Exception as e:  # the store is unreachable: say so, never a traceback
            log.warning("spend.report_failed", error=type(e).__name__)
            return _error(503, "the spend store cannot answer right now; try again later")
        return JSONResponse(report)

    return endpoint


def _error(status: int, message: str) -> JSONResponse:
    kind = "invalid_request_error" if status == 400 else "api_error"
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)
