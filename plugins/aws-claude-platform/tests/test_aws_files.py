"""The seed's Files API through the ``files`` plugin and the openai SDK, with each auth
method: uploads (a streamed multipart body) are signed as ``UNSIGNED-PAYLOAD``, other
calls over the bytes sent, and every call carries the workspace header; plus a direct
call through the account's client."""

from __future__ import annotations

import io
from collections.abc import Iterator

import openai
import pytest
from aws_fakes import ACCOUNTS, FakePlatform, assert_authenticated

from proxy_core.testing import GATEWAY_KEY, Reply, RunningGateway

FILE_ID = "file_011CNha8iCJcU1wXNR6q4V8w"
META = {
    "id": FILE_ID,
    "type": "file",
    "filename": "notes.txt",
    "mime_type": "text/plain",
    "size_bytes": 11,
    "created_at": "2025-04-15T18:37:24.100435Z",
    "downloadable": False,
}


@pytest.fixture(params=ACCOUNTS)
def files_client(request: pytest.FixtureRequest, gateway: RunningGateway) -> Iterator[tuple[str, openai.OpenAI]]:
    account = request.param
    headers = {"x-proxy-core-account": account}
    with openai.OpenAI(
        base_url=gateway.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10, default_headers=headers
    ) as client:
        yield account, client


def test_files_create_list_retrieve_delete(files_client: tuple[str, openai.OpenAI], platform: FakePlatform) -> None:
    account, client = files_client
    platform.queue(
        Reply.json(META),
        Reply.json({"data": [META], "has_more": False, "first_id": FILE_ID, "last_id": FILE_ID}),
        Reply.json(META),
        Reply.json({"id": FILE_ID, "type": "file_deleted"}),
    )
    created = client.files.create(file=("notes.txt", io.BytesIO(b"hello world"), "text/plain"), purpose="user_data")
    assert created.id == FILE_ID and created.bytes == 11
    upload = platform.requests[0]
    assert (upload.method, upload.path) == ("POST", "/v1/files")
    assert b"hello world" in upload.body
    if account != "aws-apikey":  # streamed, not hashed: the signature says so, the fake checked it
        assert upload.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert [f.id for f in client.files.list()] == [FILE_ID]
    assert client.files.retrieve(FILE_ID).filename == "notes.txt"
    assert client.files.delete(FILE_ID).deleted is True
    assert [(r.method, r.path) for r in platform.requests] == [
        ("POST", "/v1/files"),
        ("GET", "/v1/files?limit=1000"),  # a tenant's list: full pages, filtered to its own files
        ("GET", f"/v1/files/{FILE_ID}"),
        ("DELETE", f"/v1/files/{FILE_ID}"),
    ]
    assert all("x-amz-content-sha256" not in r.headers for r in platform.requests[1:])  # no body: signed
    assert_authenticated(platform, account)


@pytest.mark.parametrize("account", ACCOUNTS)
def test_direct_call_through_account_client(account: str, gateway: RunningGateway, platform: FakePlatform) -> None:
    """Any plugin that calls through the account's pooled client gets the header and the signature."""
    platform.queue(Reply.json({"data": [], "has_more": False}))
    client = gateway.gateway.clients[account]

    async def call() -> int:
        response = await client.get("/v1/files?limit=5", headers={"anthropic-version": "2023-06-01"})
        return response.status_code

    assert gateway._loop.run(call()) == 200
    assert platform.last.path == "/v1/files?limit=5"
    assert_authenticated(platform, account)
