"""One gateway's view of its keys and account models, kept in step with the store.

Static keys (``auth.keys``) are compiled once and compared in constant time; run-time
keys are a dict from SHA-256 digest to Principal, swapped whole on each reload, so the
hot path is one digest and one dict lookup. A background task polls the store's change
counter every ``plugins.auth.sync_s`` seconds (default 0.5) and reloads keys and models
when it moved: a change made on any replica (or by the CLI) is live everywhere within
``sync_s`` plus one reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from typing import TYPE_CHECKING, Any

import structlog

from proxy_core import Principal
from proxy_core.config import ConfigError
from proxy_core.sqlstore import redact
from proxy_core.tasks import spawn

from .store import AuthStore, StoredKey, store_url

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway

log = structlog.get_logger("proxy_core.auth")

DEFAULT_SYNC_S = 0.5


def compile_static(gateway: Gateway) -> list[tuple[bytes, Principal]]:
    entries = []
    for i, key in enumerate(gateway.config.auth.keys):
        if key.key is not None:
            secret = key.key.get_secret_value()
            if not secret:
                var = gateway.config.missing_env.get(f"auth.keys.{i}.key", "?")
                log.warning("auth.key_disabled", key_name=key.name, reason=f"environment variable {var} is not set")
                continue
            digest = hashlib.sha256(secret.encode()).digest()
        else:
            assert key.key_sha256 is not None
            digest = bytes.fromhex(key.key_sha256)
        principal = Principal(
            name=key.name,
            user=key.user,
            teams=tuple(key.teams),
            admin=key.admin,
            models=tuple(key.models) if key.models is not None else None,
        )
        entries.append((digest, principal))
    return entries


def principal_of(key: StoredKey) -> Principal:
    return Principal(name=key.name, user=key.user, teams=key.teams, admin=False, models=key.models, limits=key.limits)


def sync_interval(section: dict[str, Any]) -> float:
    value = section.get("sync_s", DEFAULT_SYNC_S)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.05 <= value <= 2:
        raise ConfigError(["plugins.auth.sync_s: must be a number of seconds from 0.05 to 2"])
    return float(value)


class AuthState:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        section = gateway.config.plugin_section("auth")
        self.sync_s = sync_interval(section)
        self.static = compile_static(gateway)
        self.static_names = frozenset(k.name for k in gateway.config.auth.keys)
        self.runtime: dict[bytes, Principal] = {}
        self.url = store_url(gateway.config.auth.store)
        self.store = AuthStore(self.url)
        # The config's models per account, before any run-time change is laid over them.
        self.config_models = {name: dict(p.settings.models) for name, p in gateway.providers.items()}
        self.applied: dict[str, dict[str, dict[str, Any]]] = dict(self.config_models)
        self.version: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._refreshing = asyncio.Lock()
        self._failing = False

    async def start(self) -> None:
        try:
            await self.refresh()
        except Exception as e:  # serve static keys and the config's models; the poller retries
            self._report_failure(e)
        self._task = spawn(self._poll(), name="proxy-core-auth-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.store.close()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.sync_s)
            try:
                await self.refresh()
            except Exception as e:
                self._report_failure(e)
            else:
                if self._failing:
                    self._failing = False
                    log.info("auth.store_recovered", store=redact(self.url))

    def _report_failure(self, e: Exception) -> None:
        if not self._failing:  # once per outage, not every poll
            self._failing = True
            log.warning("auth.store_unavailable", store=redact(self.url), error=type(e).__name__)

    async def refresh(self, force: bool = False) -> None:
        """Reload keys and models when the store's counter moved (or ``force``)."""
        async with self._refreshing:
            version = await self.store.version()
            if version == self.version and not force:
                return
            keys = await self.store.keys()
            models = await self.store.models()
            self.runtime = {k.digest: principal_of(k) for k in keys}
            self._apply_models(models)
            self.version = version

    def effective_models(
        self, account: str, stored: dict[str, dict[str, Any] | None] | None
    ) -> dict[str, dict[str, Any]]:
        """The config's models of ``account`` with the stored changes laid over them."""
        models = dict(self.config_models.get(account, {}))
        for model, settings in (stored or {}).items():
            if settings is None:
                models.pop(model, None)
            else:
                models[model] = settings
        return models

    def _apply_models(self, stored: dict[str, dict[str, dict[str, Any] | None]]) -> None:
        for account in self.gateway.providers:
            models = self.effective_models(account, stored.get(account))
            if models != self.applied.get(account):
                self.gateway.set_models(account, models)
                self.applied[account] = models
                log.info("auth.models_applied", account=account, models=len(models))
