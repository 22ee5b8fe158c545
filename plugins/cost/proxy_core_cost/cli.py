"""``proxy-core spend --config gateway.yaml [--group-by key] [--since 2026-11-01]``.

Reads the spend store named by ``plugins.cost.store`` in the config and prints the same
report as ``GET /admin/spend`` (JSON, or a table with ``--table``). Declared in the
``proxy_core.commands`` entry-point group (``proxy-core spend``) and as the console
script ``proxy-core-spend``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import orjson

from proxy_core import config as config_mod
from proxy_core.config import ConfigError

from .admin import BadQuery, spend_report
from .plugin import make_state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="proxy-core spend", description="spend report from the cost store")
    parser.add_argument("--config", required=True, help="path to gateway.yaml")
    parser.add_argument("--group-by", choices=["key", "user", "team", "model", "account", "route", "day"])
    parser.add_argument("--since", help="YYYY-MM-DD or ISO date-time (UTC)")
    parser.add_argument("--until", help="YYYY-MM-DD or ISO date-time (UTC), exclusive")
    parser.add_argument("--key", help="only this key name")
    parser.add_argument("--user", help="only this user")
    parser.add_argument("--model", help="only this upstream model")
    parser.add_argument("--table", action="store_true", help="print a table instead of JSON")
    args = parser.parse_args(argv)
    params = {
        k: v
        for k, v in {
            "group_by": args.group_by,
            "since": args.since,
            "until": args.until,
            "key": args.key,
            "user": args.user,
            "model": args.model,
        }.items()
        if v
    }
    try:
        cfg = config_mod.load(args.config)
        report = asyncio.run(_report(cfg.plugin_section("cost"), params))
    except (ConfigError, BadQuery) as e:
        print(f"proxy-core spend: {e}", file=sys.stderr)
        return 2
    if args.table:
        _print_table(report)
    else:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


async def _report(section: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    state = make_state(section, journal=False)  # a report reads; the gateway replays its journal
    try:
        return await spend_report(state, params)
    finally:
        await state.store.close()


def _print_table(report: dict[str, Any]) -> None:
    group = report["group_by"] or "total"
    cols = [
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cost_usd",
        "unpriced_requests",
    ]
    rows = [[str(r.get(group)), *[str(r[c]) for c in cols]] for r in report["rows"]]
    rows.append(["TOTAL", *[str(report["total"][c]) for c in cols]])
    _print_rows([group, *cols], rows)
    unpriced = report["unpriced"]["by_model"]
    if unpriced:  # cost_usd above leaves these out
        print("\nno cost recorded (not in cost_usd):")
        cols = ["requests", "input_tokens", "output_tokens"]
        _print_rows(
            ["account", "model", "reason", *cols],
            [[str(u["account"]), str(u["model"]), str(u["reason"]), *[str(u[c]) for c in cols]] for u in unpriced],
        )


def _print_rows(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    for line in [header, *rows]:
        print("  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)))


if __name__ == "__main__":
    raise SystemExit(main())
