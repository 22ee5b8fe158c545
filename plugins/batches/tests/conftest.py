"""The batches plugin's tests: an Anthropic, an OpenAI and a Claude Platform on AWS account,
two tenant keys, owners in a per-test SQLite store, a charge recorder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from batches_fakes import ACCESS_KEY_ID, ALICE_KEY, BOB_KEY, REGION, SECRET_KEY, WORKSPACE, Charges, FakeAwsPlatform

from proxy_core.testing import BackgroundLoop, FakeUpstream, RunningGateway, default_config, run_fake


@pytest.fixture(scope="session")
def _aws_server(proxy_core_loop: BackgroundLoop) -> Iterator[FakeAwsPlatform]:
    yield from run_fake(proxy_core_loop, FakeAwsPlatform())


@pytest.fixture
def aws(_aws_server: FakeAwsPlatform) -> FakeAwsPlatform:
    _aws_server.reset()
    _aws_server.rejections.clear()
    return _aws_server


@pytest.fixture
def gateway_config(
    tmp_path: Path, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream, aws: FakeAwsPlatform
) -> dict[str, Any]:
    config = default_config(openai_url=fake_openai.url, anthropic_url=fake_anthropic.url)
    config["providers"]["aws-claude"] = {
        "type": "aws-claude-platform",
        "workspace_id": WORKSPACE,
        "region": REGION,
        "base_url": aws.url,
        "auth": {"type": "access_key", "access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_KEY},
        "models": {"claude-sonnet-4-5": {}},
    }
    keys = config["auth"]["keys"]
    keys.append({"name": "alice", "key": ALICE_KEY, "user": "alice"})
    keys.append({"name": "bob", "key": BOB_KEY, "user": "bob"})
    config["plugins"] = {
        "disabled": ["fallback"],
        "cost": {"store": f"sqlite:///{tmp_path / 'spend.db'}", "flush_interval_s": 0.05},
    }
    return config


@pytest.fixture
def charges() -> Charges:
    return Charges()


@pytest.fixture
def gateway(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], charges: Charges
) -> RunningGateway:
    return gateway_factory(gateway_config, plugins=[("charges", charges)])
