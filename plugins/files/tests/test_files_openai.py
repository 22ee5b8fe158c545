"""OpenAI accounts: the Files API passed through, the account's key swapped in."""

from __future__ import annotations

import io
from collections.abc import Iterator

import openai
import pytest
from files_helpers import OPENAI_ONLY_KEY, multipart_parts, sdk
from openai.types import FileObject

from proxy_core.testing import FakeUpstream, Reply, RunningGateway

OPENAI_FILE = {
    "id": "file-abc123",
    "object": "file",
    "bytes": 5,
    "created_at": 1700000000,
    "filename": "train.jsonl",
    "purpose": "fine-tune",
    "status": "processed",
}


@pytest.fixture
def client(gateway: RunningGateway) -> Iterator[openai.OpenAI]:
    with sdk(gateway, OPENAI_ONLY_KEY, **{"x-proxy-core-account": "openai-main"}) as c:
        yield c


def test_upload_list_retrieve_content_delete(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.queue(
        Reply.json(OPENAI_FILE),
        Reply.json({"object": "list", "data": [OPENAI_FILE], "has_more": False}),
        Reply.json(OPENAI_FILE),
        Reply.raw(b'{"a": 1}\n', content_type="application/octet-stream"),
        Reply.json({"id": "file-abc123", "object": "file", "deleted": True}),
    )
    created = client.files.create(file=("train.jsonl", io.BytesIO(b"line\n")), purpose="fine-tune")
    listed = client.files.list(limit=3, purpose="fine-tune", order="desc")
    got = client.files.retrieve("file-abc123")
    content = client.files.content("file-abc123").read()
    deleted = client.files.delete("file-abc123")

    assert isinstance(created, FileObject) and created.model_dump(exclude_none=True) == OPENAI_FILE
    assert [f.id for f in listed.data] == ["file-abc123"] and got.filename == "train.jsonl"
    assert content == b'{"a": 1}\n'
    assert deleted.deleted is True
    upload, list_, retrieve, download, delete = fake_openai.requests
    assert (upload.method, upload.path) == ("POST", "/v1/files")
    parts = {h["content-disposition"]: data for h, data in multipart_parts(upload)}
    assert parts == {
        'form-data; name="purpose"': b"fine-tune",
        'form-data; name="file"; filename="train.jsonl"': b"line\n",
    }  # the client's body as it was sent
    # the client's query, but a tenant's list scans the largest pages for its own files
    assert list_.path == "/v1/files?order=desc&purpose=fine-tune&limit=10000"
    assert [(r.method, r.path) for r in (retrieve, download, delete)] == [
        ("GET", "/v1/files/file-abc123"),
        ("GET", "/v1/files/file-abc123/content"),
        ("DELETE", "/v1/files/file-abc123"),
    ]
    for r in fake_openai.requests:
        assert r.headers["authorization"] == "Bearer sk-upstream-openai-secret"
        assert "x-proxy-core-account" not in r.headers


def test_upstream_errors_pass_through(gateway: RunningGateway, fake_openai: FakeUpstream) -> None:
    """The admin key sees every file: the upstream's own answers come back."""
    error = {"error": {"message": "No such File object: file-x", "type": "invalid_request_error", "param": "id"}}
    fake_openai.queue(Reply.json(error, status=404), Reply.json({"error": {"message": "boom"}}, status=503))
    with sdk(gateway, **{"x-proxy-core-account": "openai-main"}) as client:
        with pytest.raises(openai.NotFoundError) as e:
            client.files.retrieve("file-x")
        assert e.value.body == error["error"]
        with pytest.raises(openai.InternalServerError) as e5:
            client.files.list()
    assert e5.value.status_code == 503
