"""An account that lists collaborators serves /files only to them (and admins): an
outsider gets a 403 naming the account with no upstream call, on both SDKs."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from files_helpers import ALICE_KEY, BOB_KEY, anthropic_file, sdk

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway

ANTHROPIC_ACCOUNT = {"x-proxy-core-account": "anthropic-main"}
PAGE = {"data": [anthropic_file()], "has_more": False, "first_id": None, "last_id": None}


@pytest.fixture
def guarded(gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]) -> RunningGateway:
    # alice may use anthropic-main; bob (same team "ml", same model allow-list) may not.
    gateway_config["providers"]["anthropic-main"]["collaborators"] = [{"subject": "user:alice", "role": "user"}]
    return gateway_factory(gateway_config)


def test_outsider_403_collaborator_and_admin_served(guarded: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    with sdk(guarded, BOB_KEY, **ANTHROPIC_ACCOUNT) as bob:
        with pytest.raises(openai.PermissionDeniedError) as denied:
            bob.files.list()
        with pytest.raises(openai.PermissionDeniedError):
            bob.files.create(file=("x.txt", io.BytesIO(b"x"), "text/plain"), purpose="user_data")
    assert "anthropic-main" in denied.value.message
    with (
        anthropic.Anthropic(
            base_url=guarded.url, api_key=BOB_KEY, max_retries=0, timeout=10, default_headers=ANTHROPIC_ACCOUNT
        ) as bob_native,
        pytest.raises(anthropic.PermissionDeniedError) as native,
    ):
        bob_native.beta.files.list()
    assert native.value.body["error"]["type"] == "permission_error"  # type: ignore[index]
    assert fake_anthropic.requests == []

    fake_anthropic.queue(Reply.json(anthropic_file("file_alice")), Reply.json(PAGE))
    with sdk(guarded, ALICE_KEY, **ANTHROPIC_ACCOUNT) as alice:
        uploaded = alice.files.create(file=("a.txt", io.BytesIO(b"alice's"), "text/plain"), purpose="user_data")
    assert uploaded.id == "file_alice"
    with sdk(guarded, GATEWAY_KEY, **ANTHROPIC_ACCOUNT) as admin:
        assert [f.id for f in admin.files.list()] == [anthropic_file()["id"]]
    assert [r.path for r in fake_anthropic.requests] == ["/v1/files", "/v1/files"]
