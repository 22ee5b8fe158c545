"""The files plugin's tests: both fakes, the seed's ``anthropic-main`` account, a second
key that may use only the OpenAI account (see ``files_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from files_helpers import files_config, sdk

from proxy_core.testing import FakeUpstream, RunningGateway


@pytest.fixture
def gateway_config(tmp_path: Path, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream) -> dict[str, Any]:
    return files_config(fake_anthropic.url, fake_openai.url, f"sqlite:///{tmp_path / 'spend.db'}")


@pytest.fixture
def files_client(gateway: RunningGateway) -> Iterator[openai.OpenAI]:
    """The seed's client: the openai SDK with ``x-tfy-provider-name: anthropic-main``."""
    with sdk(gateway, **{"x-tfy-provider-name": "anthropic-main"}) as client:
        yield client
