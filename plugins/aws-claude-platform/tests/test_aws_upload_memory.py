"""A 48 MiB upload to a SigV4 account streams through a served gateway (``proxy-core
serve``, its own process): the body is signed as ``UNSIGNED-PAYLOAD`` instead of being
read whole to hash it, the fake platform verifies that signature with botocore, and the
gateway's peak RSS grows by a small fraction of the file's size."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import openai
from aws_fakes import FakePlatform, FakeSTS, platform_config, verify_sigv4
from botocore.credentials import ReadOnlyCredentials
from proxy_core_aws.signing import sign

from proxy_core.testing import GATEWAY_KEY, RecordedRequest, Reply
from proxy_core.testing.subprocess_gateway import served

SIZE = 48 * 1024 * 1024
MAX_GROWTH = 10 * 1024 * 1024
META = {
    "id": "file_011CNha8iCJcU1wXNR6q4V8w",
    "type": "file",
    "filename": "big.bin",
    "mime_type": "application/octet-stream",
    "size_bytes": SIZE,
    "created_at": "2025-04-15T18:37:24.100435Z",
    "downloadable": False,
}


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _file_data(body: bytes) -> bytes:
    """The data of a one-part multipart body."""
    head, _, rest = body.partition(b"\r\n\r\n")
    assert b'name="file"' in head
    data, sep, _ = rest.rpartition(b"\r\n--")
    assert sep
    return data


def test_48mb_upload_to_a_sigv4_account_streams(tmp_path: Path, platform: FakePlatform, sts: FakeSTS) -> None:
    config = platform_config(platform.url, sts.url)
    config["plugins"]["disabled"] += ["cost", "tracing", "observability"]
    config["plugins"]["cost"] = {"store": f"sqlite:///{tmp_path / 'spend.db'}"}  # file owners go there
    config["plugins"]["files"] = {"max_upload_bytes": 64 * 1024 * 1024}
    big = tmp_path / "big.bin"
    block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB
    with big.open("wb") as f:
        for i in range(SIZE // len(block)):
            f.write(i.to_bytes(4, "big") + block[4:])
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    platform.queue(Reply.json({**META, "filename": "warm.txt", "size_bytes": 4}), Reply.json(META))
    with (
        served(tmp_path, config) as (proc, url),
        openai.OpenAI(
            base_url=url + "/v1",
            api_key=GATEWAY_KEY,
            max_retries=0,
            timeout=60,
            default_headers={"x-proxy-core-account": "aws-key"},
        ) as client,
    ):
        client.files.create(file=("warm.txt", b"warm"), purpose="user_data")  # code paths loaded
        Path(f"/proc/{proc.pid}/clear_refs").write_text("5")  # peak RSS := current RSS
        before = _status_kb(proc.pid, "VmRSS")
        with big.open("rb") as f:
            uploaded = client.files.create(file=f, purpose="user_data")
        peak = _status_kb(proc.pid, "VmHWM")
    growth = peak - before
    print(f"gateway peak RSS growth during a {SIZE >> 20} MiB SigV4 upload: {growth / 2**20:.1f} MiB")
    assert uploaded.bytes == SIZE
    assert platform.rejections == []  # botocore agreed with every signature
    upload = platform.last
    assert upload.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert "x-amz-content-sha256" in upload.headers["authorization"]  # signed
    assert "transfer-encoding" in upload.headers  # streamed (chunked), not read whole
    assert hashlib.sha256(_file_data(upload.body)).hexdigest() == digest
    assert growth < MAX_GROWTH, f"peak RSS grew by {growth / 2**20:.1f} MiB"


def test_fake_checks_the_unsigned_payload_signature(platform: FakePlatform) -> None:
    """``sign`` over a stream: the fake's botocore check accepts it, and rejects the same
    request once its payload header is changed (to the body's real hash)."""
    creds = ReadOnlyCredentials("AKIATESTCANARY000001", "canary-secret-access-key-0123456789abcdef", None)

    async def body() -> object:
        yield b"file bytes"

    request = httpx.Request(
        "POST",
        "http://127.0.0.1:1/v1/files",
        content=body(),  # type: ignore[arg-type]
        headers={"anthropic-workspace-id": platform.workspace, "content-type": "multipart/form-data; boundary=x"},
    )
    sign(request, creds, "aws-external-anthropic", platform.region)
    headers = {k.lower(): v for k, v in request.headers.items()}
    recorded = RecordedRequest("POST", "/v1/files", headers, b"file bytes")
    known = {creds.access_key: (creds.secret_key, None)}
    assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert verify_sigv4(recorded, known, platform.region, "aws-external-anthropic") is None
    recorded.headers["x-amz-content-sha256"] = hashlib.sha256(b"file bytes").hexdigest()
    problem = verify_sigv4(recorded, known, platform.region, "aws-external-anthropic")
    assert problem is not None and "signature" in problem
