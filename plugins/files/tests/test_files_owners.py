"""Files belong to the key that uploaded them: another tenant cannot list, retrieve,
download, delete or chat with them (a 404 in its client's shape, no upstream call), the
admin sees everything, and owners survive a restart (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import copy
import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anthropic
import openai
import pytest
from files_helpers import ALICE_KEY, BOB_KEY, anthropic_file, sdk

from proxy_core.testing import FakeUpstream, RecordedRequest, Reply, RunningGateway

MODEL = "anthropic-main/claude-sonnet-4-20250514"
ANTHROPIC_ACCOUNT = {"x-proxy-core-account": "anthropic-main"}
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
OPENAI_FILE = {
    "object": "file",
    "bytes": 5,
    "created_at": 1700000000,
    "filename": "train.jsonl",
    "purpose": "fine-tune",
    "status": "processed",
}


def new_id() -> str:
    return "file_" + uuid.uuid4().hex


def ant(gateway: RunningGateway, key: str) -> anthropic.Anthropic:
    """The anthropic SDK (its beta Files API) on the gateway, with the account header."""
    return anthropic.Anthropic(
        base_url=gateway.url, api_key=key, max_retries=0, timeout=10, default_headers=ANTHROPIC_ACCOUNT
    )


def upload_as_alice(gateway: RunningGateway, fake: FakeUpstream) -> str:
    file_id = new_id()
    fake.queue(Reply.json(anthropic_file(file_id, "secret.txt")))
    with sdk(gateway, ALICE_KEY, **ANTHROPIC_ACCOUNT) as alice:
        assert (
            alice.files.create(file=("secret.txt", io.BytesIO(b"alice's"), "text/plain"), purpose="user_data").id
            == file_id
        )
    fake.reset()
    return file_id


def assert_openai_404(error: pytest.ExceptionInfo[openai.NotFoundError], file_id: str) -> None:
    assert error.value.status_code == 404
    assert error.value.body == {
        "message": f"No such file: {file_id!r}",
        "type": "invalid_request_error",
        "param": "file_id",
        "code": "file_not_found",
    }


def test_another_tenant_cannot_touch_a_file_openai_sdk(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    file_id = upload_as_alice(gateway, fake_anthropic)
    other = new_id()  # a file nobody uploaded through the gateway
    page = {"data": [anthropic_file(file_id), anthropic_file(other)], "has_more": False}
    fake_anthropic.queue(Reply.json(page), Reply.json(page), Reply.json(page))

    with sdk(gateway, BOB_KEY, **ANTHROPIC_ACCOUNT) as bob:
        assert bob.files.list().data == []
        for call in (bob.files.retrieve, bob.files.content, bob.files.delete):
            with pytest.raises(openai.NotFoundError) as e:
                call(file_id)
            assert_openai_404(e, file_id)
    assert [r.path for r in fake_anthropic.requests] == ["/v1/files?limit=1000"]  # only bob's list

    with sdk(gateway, ALICE_KEY, **ANTHROPIC_ACCOUNT) as alice:
        assert [f.id for f in alice.files.list().data] == [file_id]
    with sdk(gateway, **ANTHROPIC_ACCOUNT) as admin:
        assert [f.id for f in admin.files.list().data] == [file_id, other]


def test_another_tenant_cannot_touch_a_file_anthropic_sdk(
    gateway: RunningGateway, fake_anthropic: FakeUpstream
) -> None:
    """The anthropic SDK's own Files API (``client.beta.files``), passed through."""
    file_id = new_id()
    meta = anthropic_file(file_id, "notes.txt", 5)
    fake_anthropic.queue(Reply.json(meta))
    with ant(gateway, ALICE_KEY) as alice:
        uploaded = alice.beta.files.upload(file=("notes.txt", b"hello", "text/plain"))
    assert uploaded.id == file_id and uploaded.size_bytes == 5
    upload = fake_anthropic.last
    assert upload.path == "/v1/files" and b"hello" in upload.body
    assert "files-api-2025-04-14" in upload.headers["anthropic-beta"]
    assert upload.headers["x-api-key"] == "sk-ant-upstream-secret"  # the account's key, not alice's
    fake_anthropic.reset()

    page = {"data": [meta, anthropic_file(new_id())], "has_more": False, "first_id": file_id, "last_id": None}
    fake_anthropic.queue(Reply.json(page), Reply.json(page), Reply.json(meta))
    with ant(gateway, BOB_KEY) as bob:
        assert bob.beta.files.list().data == []
        for call in (bob.beta.files.retrieve_metadata, bob.beta.files.download, bob.beta.files.delete):
            with pytest.raises(anthropic.NotFoundError) as e:
                call(file_id)
            assert e.value.body == {
                "type": "error",
                "error": {"type": "not_found_error", "message": f"No such file: {file_id!r}"},
            }
    assert [r.path for r in fake_anthropic.requests] == ["/v1/files?limit=1000"]

    with ant(gateway, ALICE_KEY) as alice:
        assert [f.id for f in alice.beta.files.list()] == [file_id]
        assert alice.beta.files.retrieve_metadata(file_id).filename == "notes.txt"
    assert fake_anthropic.last.path == f"/v1/files/{file_id}"


def test_another_tenant_cannot_touch_a_file_on_an_openai_account(
    gateway: RunningGateway, fake_openai: FakeUpstream
) -> None:
    account = {"x-proxy-core-account": "openai-main"}
    file_id = "file-" + uuid.uuid4().hex
    fake_openai.queue(Reply.json({**OPENAI_FILE, "id": file_id}))
    with sdk(gateway, ALICE_KEY, **account) as alice:
        alice.files.create(file=("train.jsonl", io.BytesIO(b"line\n")), purpose="fine-tune")
    fake_openai.reset()
    fake_openai.queue(Reply.json({"object": "list", "data": [{**OPENAI_FILE, "id": file_id}], "has_more": False}))
    with sdk(gateway, BOB_KEY, **account) as bob:
        assert bob.files.list().data == []
        with pytest.raises(openai.NotFoundError) as e:
            bob.files.content(file_id)
        assert_openai_404(e, file_id)
    assert [r.path for r in fake_openai.requests] == ["/v1/files?limit=10000"]


def test_another_tenants_file_in_chat_or_messages_is_404_without_upstream_call(
    gateway: RunningGateway, fake_anthropic: FakeUpstream
) -> None:
    file_id = upload_as_alice(gateway, fake_anthropic)
    part = {"type": "file", "file": {"file_id": file_id}}
    chat = [{"role": "user", "content": [{"type": "text", "text": "Summarise it."}, part]}]
    block = {"type": "document", "source": {"type": "file", "file_id": file_id}}
    # the same file hidden in a tool result: still found
    tool_result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": [block]}
    messages: list[Any] = [{"role": "user", "content": [tool_result]}]

    with sdk(gateway, BOB_KEY) as bob, pytest.raises(openai.NotFoundError) as e:
        bob.chat.completions.create(model=MODEL, messages=chat)  # type: ignore[arg-type]
    assert e.value.code == "file_not_found" and file_id in e.value.message
    with ant(gateway, BOB_KEY) as bob_ant:
        with pytest.raises(anthropic.NotFoundError) as ea:
            bob_ant.beta.messages.create(model=MODEL, max_tokens=10, messages=messages)
        assert ea.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
        with pytest.raises(anthropic.NotFoundError):
            bob_ant.messages.count_tokens(model=MODEL, messages=messages)
    assert fake_anthropic.requests == []

    with sdk(gateway, ALICE_KEY) as alice:
        alice.chat.completions.create(model=MODEL, messages=chat)  # type: ignore[arg-type]
    assert fake_anthropic.last.json()["messages"][0]["content"][1]["source"] == {"type": "file", "file_id": file_id}


@pytest.fixture(params=["sqlite", "postgresql"])
def owners_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(store URL, table name) of the spend database; PostgreSQL tables dropped afterwards."""
    table = "owners_" + uuid.uuid4().hex[:12]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'spend.db'}", table
        return
    import os

    import asyncpg

    url = os.environ.get("PROXY_CORE_TEST_POSTGRES", POSTGRES_URL)
    yield url, table

    async def drop() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"DROP TABLE IF EXISTS {table}")
            await conn.execute(f"DROP TABLE IF EXISTS {table}_spend")
        finally:
            await conn.close()

    asyncio.run(drop())


def test_owners_survive_a_restart(
    owners_store: tuple[str, str],
    gateway_config: dict[str, Any],
    gateway_factory: Callable[..., RunningGateway],
    fake_anthropic: FakeUpstream,
) -> None:
    url, table = owners_store
    gateway_config["plugins"]["cost"].update(store=url, table=table + "_spend")
    gateway_config["plugins"]["files"]["table"] = table
    first = gateway_factory(copy.deepcopy(gateway_config))
    file_id = upload_as_alice(first, fake_anthropic)
    first.stop()

    again = gateway_factory(copy.deepcopy(gateway_config))
    fake_anthropic.queue(Reply.json(anthropic_file(file_id)))
    with sdk(again, BOB_KEY, **ANTHROPIC_ACCOUNT) as bob, pytest.raises(openai.NotFoundError):
        bob.files.retrieve(file_id)
    assert fake_anthropic.requests == []
    with sdk(again, ALICE_KEY, **ANTHROPIC_ACCOUNT) as alice:
        assert alice.files.retrieve(file_id).id == file_id


def test_a_tenants_list_pages_through_its_own_files(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    """The openai SDK's auto-paging (``after`` = the last id it got) over a list where the
    caller's files are scattered among others'."""
    mine = [upload_as_alice(gateway, fake_anthropic) for _ in range(3)]
    everyone = [mine[0], new_id(), new_id(), mine[1], new_id(), mine[2], new_id()]

    def page(request: RecordedRequest) -> Reply:
        query = parse_qs(urlsplit(request.path).query)
        start = everyone.index(query["after_id"][0]) + 1 if "after_id" in query else 0
        size = int(query["limit"][0])
        chunk = everyone[start : start + 2]  # a small upstream page size, whatever was asked
        assert size == 1000
        return Reply.json({"data": [anthropic_file(i) for i in chunk], "has_more": start + 2 < len(everyone)})

    fake_anthropic.queue(*[page] * 10)
    with sdk(gateway, ALICE_KEY, **ANTHROPIC_ACCOUNT) as alice:
        assert [f.id for f in alice.files.list(limit=2)] == mine
