"""Uploads: the size limit (at once from Content-Length, and while streaming), bad forms."""

from __future__ import annotations

import io

import httpx
import openai
import pytest
from files_helpers import UPLOAD_LIMIT, anthropic_file, multipart_parts
from proxy_core_files.multipart import MAX_FIELDS

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway

HEADERS = {"authorization": f"Bearer {GATEWAY_KEY}", "x-tfy-provider-name": "anthropic-main"}


def test_oversize_upload_is_413_before_any_upstream_call(
    files_client: openai.OpenAI, fake_anthropic: FakeUpstream
) -> None:
    big = b"x" * (UPLOAD_LIMIT + 2 * 1024 * 1024)  # Content-Length alone says it cannot fit
    with pytest.raises(openai.APIStatusError) as e:
        files_client.files.create(file=("big.bin", io.BytesIO(big)), purpose="assistants")
    assert e.value.status_code == 413
    assert e.value.body == {
        "message": f"the uploaded file exceeds the gateway's upload limit of {UPLOAD_LIMIT} bytes "
        "(plugins.files.max_upload_bytes)",
        "type": "invalid_request_error",
        "param": "file",
        "code": "file_too_large",
    }
    assert fake_anthropic.requests == []


@pytest.mark.parametrize("chunked", [False, True])
def test_oversize_upload_is_cut_while_streaming(
    chunked: bool, gateway: RunningGateway, fake_anthropic: FakeUpstream
) -> None:
    """Just over the limit (Content-Length within the multipart allowance, or no length at
    all): the file streams until the limit, then the upstream upload is aborted."""
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
        ).encode()
        + b"y" * (UPLOAD_LIMIT + 1)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {**HEADERS, "content-type": f"multipart/form-data; boundary={boundary}"}

    def pieces() -> object:
        for i in range(0, len(body), 4096):
            yield body[i : i + 4096]

    content = pieces() if chunked else body
    response = httpx.post(gateway.url + "/v1/files", content=content, headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert fake_anthropic.requests == []  # the upstream never got a complete request


@pytest.mark.parametrize(
    "form,message",
    [
        ({"purpose": "assistants"}, "no 'file' part"),
        ({"purpose": "nonsense", "file": ("a.txt", b"hi")}, "unknown purpose"),
    ],
)
def test_bad_forms_are_400_without_upstream_call(
    form: dict[str, object], message: str, gateway: RunningGateway, fake_anthropic: FakeUpstream
) -> None:
    files = {k: v for k, v in form.items() if isinstance(v, tuple)}
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    response = httpx.post(gateway.url + "/v1/files", data=data, files=files or {"x": ("", b"")}, headers=HEADERS)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert fake_anthropic.requests == []


def test_not_multipart_is_400(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    response = httpx.post(gateway.url + "/v1/files", json={"purpose": "assistants"}, headers=HEADERS)
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["error"]["message"]
    assert fake_anthropic.requests == []


def test_purpose_after_the_file_is_read(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    """curl -F may put ``purpose`` after the file: it is read once the file has gone up."""
    fake_anthropic.queue(Reply.json(anthropic_file(filename="a.txt", size=5)))
    boundary = "xyz"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nvision\r\n--{boundary}--\r\n'
    ).encode()
    headers = {**HEADERS, "content-type": f"multipart/form-data; boundary={boundary}"}
    response = httpx.post(gateway.url + "/files", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["purpose"] == "vision"
    [(part_headers, data)] = multipart_parts(fake_anthropic.last)
    assert data == b"hello" and 'filename="a.txt"' in part_headers["content-disposition"]


def test_missing_purpose_after_the_file_deletes_the_upload(
    gateway: RunningGateway, fake_anthropic: FakeUpstream
) -> None:
    file_id = anthropic_file()["id"]
    fake_anthropic.queue(Reply.json(anthropic_file()), Reply.json({"id": file_id, "type": "file_deleted"}))
    response = httpx.post(gateway.url + "/files", files={"file": ("a.txt", b"hello")}, headers=HEADERS)
    assert response.status_code == 400
    assert "'purpose'" in response.json()["error"]["message"]
    assert [(r.method, r.path) for r in fake_anthropic.requests] == [
        ("POST", "/v1/files"),
        ("DELETE", f"/v1/files/{file_id}"),
    ]


def test_too_many_form_fields_is_400(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    """The number of fields is capped (each field is kept until the form is read)."""
    fields = {f"f{i}": "x" for i in range(MAX_FIELDS)} | {"purpose": "assistants"}
    response = httpx.post(gateway.url + "/files", data=fields, files={"file": ("a.txt", b"hi")}, headers=HEADERS)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == f"the upload has more than {MAX_FIELDS} form fields"
    assert fake_anthropic.requests == []


def test_oversized_part_headers_are_400(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    boundary = "hdrs"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\nX-Pad: {"p" * 20000}\r\n\r\n'
        f"assistants\r\n--{boundary}--\r\n"
    ).encode()
    headers = {**HEADERS, "content-type": f"multipart/form-data; boundary={boundary}"}
    response = httpx.post(gateway.url + "/files", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "the multipart body is malformed"  # python-multipart's cap
    assert fake_anthropic.requests == []
