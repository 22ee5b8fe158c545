"""A 50 MB upload streams through a served gateway (``proxy-core serve``, its own process)
without the gateway holding the file: its peak RSS grows by a small fraction of the size."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from files_helpers import anthropic_file, multipart_parts, sdk

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply
from proxy_core.testing.subprocess_gateway import served

SIZE = 50 * 1024 * 1024
MAX_GROWTH = 10 * 1024 * 1024


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def test_50mb_upload_streams_with_bounded_memory(
    tmp_path: Path, gateway_config: dict[str, Any], fake_anthropic: FakeUpstream
) -> None:
    gateway_config["plugins"]["files"]["max_upload_bytes"] = 64 * 1024 * 1024
    gateway_config["plugins"]["disabled"] += ["cost", "tracing", "observability"]
    big = tmp_path / "big.bin"
    block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB, not compressible to nothing
    with big.open("wb") as f:
        for i in range(SIZE // len(block)):
            f.write(i.to_bytes(4, "big") + block[4:])
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    fake_anthropic.queue(Reply.json(anthropic_file(filename="warm.txt", size=4)))
    fake_anthropic.queue(Reply.json(anthropic_file(filename="big.bin", size=SIZE)))
    with (
        served(tmp_path, gateway_config) as (proc, url),
        sdk(url, **{"x-tfy-provider-name": "anthropic-main"}) as client,
    ):
        client.files.create(file=("warm.txt", b"warm"), purpose="assistants")  # code paths loaded
        Path(f"/proc/{proc.pid}/clear_refs").write_text("5")  # peak RSS := current RSS
        before = _status_kb(proc.pid, "VmRSS")
        with big.open("rb") as f:
            uploaded = client.files.create(file=f, purpose="assistants")
        peak = _status_kb(proc.pid, "VmHWM")
    growth = peak - before
    print(f"gateway peak RSS growth during a {SIZE >> 20} MiB upload: {growth / 2**20:.1f} MiB")
    assert uploaded.bytes == SIZE and uploaded.filename == "big.bin"
    [(headers, data)] = multipart_parts(fake_anthropic.last)
    assert len(data) == SIZE and hashlib.sha256(data).hexdigest() == digest  # every byte, in order
    assert "transfer-encoding" in fake_anthropic.last.headers  # streamed (chunked), not buffered
    assert growth < MAX_GROWTH, f"peak RSS grew by {growth / 2**20:.1f} MiB"


def test_a_flood_of_form_fields_is_413_with_bounded_memory(
    tmp_path: Path, gateway_config: dict[str, Any], fake_anthropic: FakeUpstream
) -> None:
    """1,600 fields of 60 KB (96 MB) against a 1 MiB upload limit, chunked (no length):
    every byte counts against the limit, so the gateway stops reading at about 2 MiB."""
    limit = 1024 * 1024
    gateway_config["plugins"]["files"]["max_upload_bytes"] = limit
    gateway_config["plugins"]["disabled"] += ["cost", "tracing", "observability"]
    boundary = "fieldflood"
    value = b"v" * 60_000

    def flood() -> Iterator[bytes]:
        for i in range(1600):
            yield f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n'.encode() + value + b"\r\n"
        file_part = 'Content-Disposition: form-data; name="file"; filename="a"\r\n\r\nx'
        yield f"--{boundary}\r\n{file_part}\r\n--{boundary}--\r\n".encode()

    fake_anthropic.queue(Reply.json(anthropic_file(filename="warm.txt", size=4)))
    headers = {
        "authorization": f"Bearer {GATEWAY_KEY}",
        "x-tfy-provider-name": "anthropic-main",
        "content-type": f"multipart/form-data; boundary={boundary}",
    }
    with (
        served(tmp_path, gateway_config) as (proc, url),
        sdk(url, **{"x-tfy-provider-name": "anthropic-main"}) as client,
    ):
        client.files.create(file=("warm.txt", b"warm"), purpose="assistants")  # code paths loaded
        Path(f"/proc/{proc.pid}/clear_refs").write_text("5")
        before = _status_kb(proc.pid, "VmRSS")
        response = httpx.post(url + "/v1/files", content=flood(), headers=headers, timeout=30)
        peak = _status_kb(proc.pid, "VmHWM")
        assert httpx.get(url + "/healthz").status_code == 200  # still serving
    growth = peak - before
    print(f"gateway peak RSS growth during a 96 MB field flood: {growth / 2**20:.1f} MiB")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert len(fake_anthropic.requests) == 1  # the warm-up only
    assert growth < MAX_GROWTH, f"peak RSS grew by {growth / 2**20:.1f} MiB"
