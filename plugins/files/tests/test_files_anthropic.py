"""/files over Anthropic's Files API, through the openai SDK with the routing header."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from files_helpers import CREATED_AT, FILES_BETA, OPENAI_ONLY_KEY, anthropic_file, multipart_parts, sdk
from openai.types import FileDeleted, FileObject

from proxy_core.testing import FakeUpstream, Reply, RunningGateway

FILE_ID = "file_011CNha8iCJcU1wXNR6q4V8w"


def test_seed_files_example(tmp_path: Path, files_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    """Seed 000's Files example, unchanged but for the base URL and key."""
    document = tmp_path / "document.txt"
    document.write_bytes(b"hello world")
    other = anthropic_file("file_013Zva2CMHLNnXjNJJKqJ2EF", "chart.png", 2048, downloadable=True, mime_type="image/png")
    fake_anthropic.queue(
        Reply.json(anthropic_file()),
        Reply.json({"data": [anthropic_file(), other], "first_id": FILE_ID, "last_id": other["id"], "has_more": False}),
        Reply.json(anthropic_file()),
        Reply.json({"id": FILE_ID, "type": "file_deleted"}),
    )

    with open(document, "rb") as f:
        uploaded = files_client.files.create(file=f, purpose="assistants")
    listed = files_client.files.list()
    meta = files_client.files.retrieve(uploaded.id)
    deleted = files_client.files.delete(uploaded.id)

    assert isinstance(uploaded, FileObject)
    assert uploaded.model_dump(exclude_none=True) == {
        "id": FILE_ID,
        "object": "file",
        "bytes": 11,
        "created_at": CREATED_AT,
        "filename": "document.txt",
        "purpose": "assistants",  # what the client uploaded with
        "status": "processed",
    }
    assert [(f.id, f.purpose, f.bytes) for f in listed.data] == [
        (FILE_ID, "user_data", 11),  # Anthropic keeps no purpose: uploaded files are user_data
        (other["id"], "assistants_output", 2048),  # downloadable = created by Claude
    ]
    assert listed.has_more is False
    assert all(isinstance(f, FileObject) for f in listed.data)
    FileObject.model_validate(meta.model_dump())  # strictly valid, not just constructed
    assert (meta.id, meta.filename, meta.purpose) == (FILE_ID, "document.txt", "user_data")
    assert isinstance(deleted, FileDeleted)
    assert deleted.model_dump() == {"id": FILE_ID, "object": "file", "deleted": True}

    upload, list_, get, delete = fake_anthropic.requests
    assert [(r.method, r.path) for r in fake_anthropic.requests] == [
        ("POST", "/v1/files"),
        ("GET", "/v1/files"),
        ("GET", f"/v1/files/{FILE_ID}"),
        ("DELETE", f"/v1/files/{FILE_ID}"),
    ]
    for r in fake_anthropic.requests:
        assert r.headers["x-api-key"] == "sk-ant-upstream-secret"
        assert r.headers["anthropic-beta"] == FILES_BETA
        assert r.headers["anthropic-version"] == "2023-06-01"
        assert "authorization" not in r.headers  # the gateway key stays at the gateway
        assert "x-tfy-provider-name" not in r.headers
    [(part_headers, data)] = multipart_parts(upload)  # only the file: no purpose field
    assert part_headers["content-disposition"] == 'form-data; name="file"; filename="document.txt"'
    assert part_headers["content-type"] == "text/plain"
    assert data == b"hello world"


def test_own_header_list_paging_and_purpose_filter(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    page = {"data": [anthropic_file()], "first_id": FILE_ID, "last_id": FILE_ID, "has_more": True}
    fake_anthropic.queue(Reply.json(page), Reply.json(page))
    with sdk(gateway, **{"x-proxy-core-account": "anthropic-main"}) as client:
        listed = client.files.list(limit=5000, after="file_prev")
        filtered = client.files.list(purpose="assistants_output")
    assert listed.has_more is True and [f.id for f in listed.data] == [FILE_ID]
    assert filtered.data == []  # an uploaded file reports user_data
    assert fake_anthropic.requests[0].path == "/v1/files?limit=1000&after_id=file_prev"  # 1000: Anthropic's max
    assert fake_anthropic.requests[1].path == "/v1/files"


def test_content_of_a_generated_file_is_streamed(files_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    png = bytes(range(256)) * 40
    fake_anthropic.queue(
        Reply.json(anthropic_file(filename="chart.png", size=len(png), downloadable=True, mime_type="image/png")),
        Reply.raw(png, content_type="image/png"),
    )
    content = files_client.files.content(FILE_ID)
    assert content.read() == png
    assert content.response.headers["content-type"] == "image/png"
    assert [(r.method, r.path) for r in fake_anthropic.requests] == [
        ("GET", f"/v1/files/{FILE_ID}"),
        ("GET", f"/v1/files/{FILE_ID}/content"),
    ]
    assert fake_anthropic.last.headers["anthropic-beta"] == FILES_BETA


def test_content_of_an_uploaded_file_is_a_clear_400(files_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(Reply.json(anthropic_file(downloadable=False)))
    with pytest.raises(openai.BadRequestError) as e:
        files_client.files.content(FILE_ID)
    assert e.value.status_code == 400
    assert "uploaded files" in e.value.message and "cannot be downloaded" in e.value.message
    assert e.value.code == "file_not_downloadable"
    assert [r.path for r in fake_anthropic.requests] == [f"/v1/files/{FILE_ID}"]  # no content request


def test_missing_header_is_400_naming_it(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    with sdk(gateway) as client, pytest.raises(openai.BadRequestError) as e:
        client.files.list()
    assert "x-proxy-core-account" in e.value.message and "x-tfy-provider-name" in e.value.message
    assert e.value.code == "missing_provider_account"
    assert fake_anthropic.requests == []


def test_unknown_account_is_404_naming_the_header(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    with sdk(gateway, **{"x-tfy-provider-name": "nope"}) as client, pytest.raises(openai.NotFoundError) as e:
        client.files.retrieve(FILE_ID)
    assert "'nope'" in e.value.message and "x-tfy-provider-name" in e.value.message
    assert e.value.code == "provider_account_not_found"
    assert fake_anthropic.requests == []


def test_unknown_file_id_is_404(files_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    missing = {"type": "error", "error": {"type": "not_found_error", "message": "File not found: file_nope"}}
    fake_anthropic.queue(Reply.json(missing, status=404), Reply.json(missing, status=404))
    with pytest.raises(openai.NotFoundError) as e:
        files_client.files.retrieve("file_nope")
    assert e.value.body == {
        "message": "File not found: file_nope",
        "type": "invalid_request_error",
        "param": "file_id",
        "code": "file_not_found",
    }
    assert (e.value.code, e.value.param, e.value.type) == ("file_not_found", "file_id", "invalid_request_error")
    with pytest.raises(openai.NotFoundError):
        files_client.files.delete("file_nope")
    assert [(r.method, r.path) for r in fake_anthropic.requests] == [
        ("GET", "/v1/files/file_nope"),
        ("DELETE", "/v1/files/file_nope"),
    ]


def test_malformed_file_id_never_goes_upstream(files_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        files_client.files.retrieve("file 1; rm")
    assert e.value.code == "invalid_file_id"
    assert fake_anthropic.requests == []


@pytest.mark.parametrize(
    "status,kind,error",
    [(500, "api_error", openai.InternalServerError), (529, "overloaded_error", openai.APIStatusError)],
)
def test_upstream_5xx_is_relayed_in_openai_shape(
    status: int,
    kind: str,
    error: type[openai.APIStatusError],
    files_client: openai.OpenAI,
    fake_anthropic: FakeUpstream,
) -> None:
    fake_anthropic.queue(
        Reply.json({"type": "error", "error": {"type": kind, "message": "upstream trouble"}}, status=status)
    )
    with pytest.raises(error) as e:
        files_client.files.list()
    assert e.value.status_code == status
    assert isinstance(e.value.body, dict) and e.value.body["message"] == "upstream trouble"  # OpenAI's shape
    assert len(fake_anthropic.requests) == 1


def test_upstream_garbage_is_502(files_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(Reply.raw(b"<html>oops</html>", content_type="text/html"))
    with pytest.raises(openai.APIStatusError) as e:
        files_client.files.retrieve(FILE_ID)
    assert e.value.status_code == 502


def test_unreachable_upstream_is_502(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]
) -> None:
    gateway_config["providers"]["anthropic-main"]["base_url"] = "http://127.0.0.1:9"
    gw = gateway_factory(gateway_config)
    with sdk(gw, **{"x-tfy-provider-name": "anthropic-main"}) as client, pytest.raises(openai.APIStatusError) as e:
        client.files.list()
    assert e.value.status_code in (502, 504)
    assert "anthropic-main" in e.value.message


def test_account_the_key_may_not_use_is_403(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    client = sdk(gateway, OPENAI_ONLY_KEY, **{"x-tfy-provider-name": "anthropic-main"})
    with client, pytest.raises(openai.PermissionDeniedError) as e:
        client.files.list()
    assert "anthropic-main" in e.value.message
    assert fake_anthropic.requests == []


def test_bad_key_is_401(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    client = sdk(gateway, "sk-wrong", **{"x-tfy-provider-name": "anthropic-main"})
    with client, pytest.raises(openai.AuthenticationError):
        client.files.list()
    assert fake_anthropic.requests == []
