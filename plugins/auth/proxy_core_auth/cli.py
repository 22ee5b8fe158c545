"""``proxy-core keys create|list|revoke --config gateway.yaml``: run-time keys in the
auth store (``auth.store``), with the admin API's validation. Running gateways see a
change within ``plugins.auth.sync_s``.

    proxy-core keys create --config gw.yaml --name ci --user bob --team ml --model 'openai-main/*' \
        --rpm 60 --tpm 100000 --budget-day 5 --budget-month 50
    proxy-core keys list --config gw.yaml
    proxy-core keys revoke --config gw.yaml ci

``create`` prints the new record as JSON with the key in ``key`` (shown once, never
stored); ``list`` prints ``{"data": [...]}`` like ``GET /admin/keys``. Exit status: 0
done, 1 unknown key (revoke), 2 bad input, config or an unreachable store.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import orjson

from proxy_core import config as config_mod
from proxy_core.config import ConfigError, GatewayConfig
from proxy_core.errors import ProxyError

from .admin import create_key, list_keys, revoke_key
from .store import AuthStore, store_errors, store_url


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="proxy-core keys", description="run-time gateway keys in the auth store")
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True)
    create.add_argument("--user")
    create.add_argument("--team", action="append", dest="teams", default=[], help="repeat for several teams")
    create.add_argument("--model", action="append", dest="models", help="allow-list glob; repeat; default: every model")
    create.add_argument("--rpm", type=int)
    create.add_argument("--tpm", type=int)
    create.add_argument("--budget-day", type=float, help="USD per UTC day")
    create.add_argument("--budget-month", type=float, help="USD per UTC month")
    sub.add_parser("list", help="list keys (never the keys themselves)")
    revoke = sub.add_parser("revoke", help="revoke a run-time key")
    revoke.add_argument("name")
    for p in sub.choices.values():
        p.add_argument("--config", required=True, help="path to gateway.yaml")
    return parser


def _body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"name": args.name, "teams": args.teams}
    for field in ("user", "models", "rpm", "tpm"):
        if getattr(args, field) is not None:
            body[field] = getattr(args, field)
    budget = {k: v for k, v in (("day", args.budget_day), ("month", args.budget_month)) if v is not None}
    if budget:
        body["budget_usd"] = budget
    return body


async def _run(args: argparse.Namespace, cfg: GatewayConfig) -> Any:
    store = AuthStore(store_url(cfg.auth.store))
    static_names = frozenset(k.name for k in cfg.auth.keys)
    try:
        if args.action == "create":
            secret, stored = await create_key(store, _body(args), static_names)
            return {"key": secret, **stored.public()}
        if args.action == "list":
            return await list_keys(store, cfg)
        await revoke_key(store, args.name, static_names)
        return None
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cfg = config_mod.load(args.config)
        out = asyncio.run(_run(args, cfg))
    except ConfigError as e:
        print(f"proxy-core keys: {e}", file=sys.stderr)
        return 2
    except ProxyError as e:
        print(f"proxy-core keys: {e.message}", file=sys.stderr)
        return 1 if e.status == 404 else 2
    except store_errors() as e:
        print(f"proxy-core keys: the auth store is unavailable ({type(e).__name__})", file=sys.stderr)
        return 2
    if out is not None:
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
