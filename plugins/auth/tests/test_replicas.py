"""Three ``proxy-core serve`` replicas sharing one auth store (a SQLite file, and
PostgreSQL): a key created or revoked on one replica, or by the CLI, and a model a
manager adds or removes, are live on every replica within 2 s (default ``sync_s``)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest
from auth_helpers import ADMIN_KEY, ALICE_KEY, MANAGER_KEY, auth_config, sqlite_store

from proxy_core.testing import FakeUpstream
from proxy_core.testing.subprocess_gateway import served

PROPAGATION_S = 2.0
OPEN = "openai-open/gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "hi"}]


class Replicas:
    def __init__(self, urls: list[str], config_path: Path) -> None:
        self.urls = urls
        self.config_path = config_path  # the shared config (same store), for the CLI


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def replicas(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _fake_openai_server: FakeUpstream,
    _fake_anthropic_server: FakeUpstream,
) -> Iterator[Replicas]:
    base = tmp_path_factory.mktemp(f"replicas-{request.param}")
    store = sqlite_store(base) if request.param == "sqlite" else request.getfixturevalue("postgres_store")
    with ExitStack() as stack:
        urls = []
        for i in range(3):
            config = auth_config(_fake_openai_server.url, _fake_anthropic_server.url, store)
            del config["plugins"]["auth"]["sync_s"]  # the default is what the 2 s promise rests on
            directory = base / f"r{i}"
            directory.mkdir()
            _, url = stack.enter_context(served(directory, config, grace_s=1))
            urls.append(url)
        yield Replicas(urls, base / "r0" / "gateway.yaml")


def within(deadline_s: float, check: Callable[[], bool]) -> float:
    """Seconds until ``check()`` held, asserting it did within ``deadline_s``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < deadline_s, f"not seen within {deadline_s} s"
        time.sleep(0.02)
    return time.monotonic() - start


def key_works(url: str, key: str) -> bool:
    r = httpx.get(url + "/v1/models", headers={"authorization": f"Bearer {key}"}, timeout=5)
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


def admin(url: str, method: str, path: str, key: str = ADMIN_KEY, **kw: Any) -> httpx.Response:
    return httpx.request(method, url + path, headers={"authorization": f"Bearer {key}"}, timeout=10, **kw)


def test_a_key_created_and_revoked_on_one_replica_applies_on_all(replicas: Replicas, fake_openai: FakeUpstream) -> None:
    first, second, third = replicas.urls
    created = admin(first, "POST", "/admin/keys", json={"name": "shared", "user": "carol", "rpm": 5})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key_works(first, key)  # the creating replica at once
    seen = [within(PROPAGATION_S, lambda url=url: key_works(url, key)) for url in (second, third)]
    with openai.OpenAI(base_url=third + "/v1", api_key=key, max_retries=0, timeout=10) as client:
        assert client.chat.completions.create(model=OPEN, messages=MESSAGES).choices  # type: ignore[arg-type]
    assert fake_openai.last.headers["authorization"] == "Bearer sk-upstream-openai-secret"
    listed = admin(second, "GET", "/admin/keys").json()["data"]
    assert [r["rpm"] for r in listed if r["name"] == "shared"] == [5] and key not in str(listed)
    conflict = admin(third, "POST", "/admin/keys", json={"name": "shared"})  # taken on another replica
    assert conflict.status_code == 400 and conflict.json()["error"]["param"] == "name"

    assert admin(second, "DELETE", "/admin/keys/shared").status_code == 204
    assert not key_works(second, key)
    gone = [within(PROPAGATION_S, lambda url=url: not key_works(url, key)) for url in (first, third)]
    with (
        anthropic.Anthropic(base_url=first, api_key=key, max_retries=0, timeout=10) as ant,
        pytest.raises(anthropic.AuthenticationError),
    ):
        ant.messages.create(model=OPEN, max_tokens=8, messages=MESSAGES)  # type: ignore[arg-type]
    assert admin(third, "DELETE", "/admin/keys/shared").status_code == 404
    print(f"created seen after {max(seen):.2f} s, revocation after {max(gone):.2f} s")


def test_a_model_a_manager_adds_is_callable_on_every_replica(replicas: Replicas, fake_anthropic: FakeUpstream) -> None:
    first, second, third = replicas.urls
    model = "claude-added-at-run-time"
    name = f"anthropic-main/{model}"
    put = admin(first, "PUT", f"/admin/providers/anthropic-main/models/{model}", MANAGER_KEY, json={"max_tokens": 32})
    assert put.status_code == 200, put.text

    def listed(url: str) -> bool:
        with openai.OpenAI(base_url=url + "/v1", api_key=ALICE_KEY, max_retries=0, timeout=10) as client:
            return name in {m.id for m in client.models.list()}

    within(PROPAGATION_S, lambda: all(listed(url) for url in replicas.urls))
    for url in replicas.urls:
        with anthropic.Anthropic(base_url=url, api_key=ALICE_KEY, max_retries=0, timeout=10) as ant:
            assert ant.messages.create(model=name, max_tokens=8, messages=MESSAGES).content  # type: ignore[arg-type]
    assert [r.json()["model"] for r in fake_anthropic.requests] == [model] * 3

    assert admin(third, "DELETE", f"/v1/admin/providers/anthropic-main/models/{model}", MANAGER_KEY).status_code == 204
    within(PROPAGATION_S, lambda: not any(listed(url) for url in replicas.urls))
    with (
        anthropic.Anthropic(base_url=second, api_key=ALICE_KEY, max_retries=0, timeout=10) as ant,
        pytest.raises(anthropic.NotFoundError),
    ):
        ant.messages.create(model=name, max_tokens=8, messages=MESSAGES)  # type: ignore[arg-type]
    assert admin(first, "DELETE", f"/admin/providers/anthropic-main/models/{model}", MANAGER_KEY).status_code == 404


def keys_cli(replicas: Replicas, *args: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).parent / "proxy-core"
    command = [str(cli), "keys", *args[:1], "--config", str(replicas.config_path), *args[1:]]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def test_the_cli_creates_lists_and_revokes_for_running_replicas(replicas: Replicas) -> None:
    made = keys_cli(replicas, "create", "--name", "from-cli", "--team", "ml", "--tpm", "900", "--budget-day", "2")
    assert made.returncode == 0, made.stderr
    record = orjson.loads(made.stdout)
    key = record["key"]
    assert key.startswith("pc-") and record["teams"] == ["ml"] and record["budget_usd"] == {"day": 2.0, "month": None}
    within(PROPAGATION_S, lambda: all(key_works(url, key) for url in replicas.urls))
    # team ml is a user of anthropic-main: the collaborators rule applies to run-time keys too
    with anthropic.Anthropic(base_url=replicas.urls[1], api_key=key, max_retries=0, timeout=10) as ant:
        ant.messages.create(model="anthropic-main/claude-sonnet-4-5", max_tokens=8, messages=MESSAGES)  # type: ignore[arg-type]

    listed = keys_cli(replicas, "list")
    assert listed.returncode == 0 and key not in listed.stdout
    assert [r["tpm"] for r in orjson.loads(listed.stdout)["data"] if r["name"] == "from-cli"] == [900]
    bad = keys_cli(replicas, "create", "--name", "from-cli")
    assert bad.returncode == 2 and "already exists" in bad.stderr
    negative = keys_cli(replicas, "create", "--name", "neg", "--rpm", "-3")
    assert negative.returncode == 2 and "rpm" in negative.stderr

    revoked = keys_cli(replicas, "revoke", "from-cli")
    assert revoked.returncode == 0, revoked.stderr
    within(PROPAGATION_S, lambda: not any(key_works(url, key) for url in replicas.urls))
    again = keys_cli(replicas, "revoke", "from-cli")
    assert again.returncode == 1 and "from-cli" in again.stderr
