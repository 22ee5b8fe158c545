"""Hostile clients cost the gateway little: no body work before authentication, bounded
parsing, body-read deadlines, header limits, header values that cannot break a response.
Each test is followed by a good request: the gateway keeps serving."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RunningGateway, default_config
from proxy_core.testing.fake_answers import OPENAI_TEXT
from proxy_core.testing.subprocess_gateway import served

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
GOOD = {"model": "openai-main/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
MIB = 1024 * 1024


def nested_arrays(size: int) -> bytes:
    """A JSON body of ``size`` bytes made of millions of tiny arrays (~5 s to parse)."""
    unit = b"[[1]],"
    body = b'{"model": "openai-main/gpt-4o-mini", "x": [' + unit * ((size - 64) // len(unit)) + b"1]}"
    return body + b" " * (size - len(body))


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def raw_post(url: str, path: str, headers: dict[str, str], length: int) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def send_in_background(sock: socket.socket, body: bytes) -> threading.Thread:
    def pump() -> None:
        try:
            view = memoryview(body)
            for i in range(0, len(body), 256 * 1024):
                sock.sendall(view[i : i + 256 * 1024])
        except OSError:
            pass  # the gateway answered and closed: the rest is never read

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def served_gateway(tmp_path: Path, fake_openai: FakeUpstream) -> Iterator[tuple[int, str]]:
    with served(tmp_path, default_config(openai_url=fake_openai.url)) as (proc, url):
        yield proc.pid, url


def test_unauthenticated_huge_body_is_refused_from_the_headers(
    served_gateway: tuple[int, str], fake_openai: FakeUpstream
) -> None:
    """Was: the 32 MiB body was read and parsed before authentication (9 s of event loop,
    RSS 80 MB -> 1.1 GB)."""
    pid, url = served_gateway
    before = peak_rss_mib(pid)
    body = nested_arrays(32 * MIB - 1)
    sock = raw_post(url, "/v1/chat/completions", {}, len(body))
    pump = send_in_background(sock, body)
    started = time.monotonic()
    status, headers, answer = read_response(sock)
    assert status == 401, answer
    assert time.monotonic() - started < 2
    assert orjson.loads(answer)["error"]["type"] == "authentication_error"
    assert headers.get("www-authenticate") == "Bearer"
    sock.close()
    pump.join(5)
    health = httpx.get(url + "/healthz", timeout=2)
    assert health.status_code == 200
    assert peak_rss_mib(pid) - before < 40, "the unauthenticated body was buffered"
    ok = httpx.post(url + "/v1/chat/completions", json=GOOD, headers=AUTH, timeout=5)
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == OPENAI_TEXT
    assert len(fake_openai.requests) == 1


def test_authenticated_body_of_millions_of_values_is_refused_without_parsing(
    served_gateway: tuple[int, str], fake_openai: FakeUpstream
) -> None:
    pid, url = served_gateway
    before = peak_rss_mib(pid)
    body = nested_arrays(32 * MIB - 1)
    probe_latency: list[float] = []

    def probe() -> None:
        with httpx.Client(timeout=10) as client:
            for _ in range(20):
                t = time.monotonic()
                client.get(url + "/healthz")
                probe_latency.append(time.monotonic() - t)
                time.sleep(0.02)

    prober = threading.Thread(target=probe)
    prober.start()
    answer = httpx.post(url + "/v1/chat/completions", content=body, headers=AUTH, timeout=20)
    prober.join()
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert "too many JSON values" in error["message"] and error["type"] == "invalid_request_error"
    assert max(probe_latency) < 0.5, f"/healthz stalled {max(probe_latency):.2f}s"
    # The body itself is held (32 MiB, and its join): nothing like the 1 GB of a parse.
    assert peak_rss_mib(pid) - before < 150
    assert fake_openai.requests == []


def test_a_body_trickling_in_gets_408_at_the_deadline(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    """Was: a client declaring 1,000,000 bytes and sending one every few seconds kept its
    connection forever."""
    gateway_config["server"] = {"body_read_timeout_s": 0.5}
    gw = gateway_factory(gateway_config)
    sock = raw_post(gw.url, "/v1/chat/completions", AUTH, 1_000_000)
    started = time.monotonic()
    sock.sendall(b'{"model": ')
    sock.settimeout(0.1)
    response = b""
    while time.monotonic() - started < 5 and not response:
        try:
            response = sock.recv(65536, socket.MSG_PEEK)
        except TimeoutError:
            sock.sendall(b" ")  # a byte every 100 ms: never idle, never done
    sock.settimeout(5)
    status, _, body = read_response(sock)
    elapsed = time.monotonic() - started
    sock.close()
    assert status == 408, body
    assert 0.4 < elapsed < 2
    error = orjson.loads(body)["error"]
    assert error["code"] == "request_timeout" and "0.5s" in error["message"]
    assert fake_openai.requests == []
    ok = httpx.post(gw.url + "/v1/chat/completions", json=GOOD, headers=AUTH, timeout=5)
    assert ok.status_code == 200


def test_oversized_headers_get_431_without_an_upstream_call(gateway: RunningGateway, fake_openai: FakeUpstream) -> None:
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        big = {**AUTH, "x-padding": "a" * MIB}
        chat = client.post("/v1/chat/completions", json=GOOD, headers=big)
        assert chat.status_code == 431, chat.text
        assert chat.json()["error"]["code"] == "request_header_fields_too_large"
        messages = client.post(
            "/v1/messages",
            json={"model": "openai-main/gpt-4o-mini", "max_tokens": 5, "messages": []},
            headers=big,
        )
        assert messages.status_code == 431
        assert messages.json()["type"] == "error" and messages.json()["error"]["type"] == "invalid_request_error"
        assert client.get("/v1/models", headers=big).status_code == 431
        assert fake_openai.requests == []
        # Headers under the limit (32 KiB by default) are served.
        ok = client.post("/v1/chat/completions", json=GOOD, headers={**AUTH, "x-padding": "a" * 16 * 1024})
        assert ok.status_code == 200
        assert len(fake_openai.requests) == 1


def test_header_values_from_client_json_are_encoded_not_crashed_on(
    gateway_factory: Callable[..., RunningGateway],
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    openai_for: Callable[..., openai.OpenAI],
) -> None:
    """Was: unknown parameter names land in ``x-proxy-core-dropped-params``; a non-Latin-1
    name gave a 500 after the upstream was called and billed, a CR/LF cut the connection."""
    gw = gateway_factory(default_config(openai_url=fake_openai.url, anthropic_url=fake_anthropic.url))
    client = openai_for(gw)
    raw = client.chat.completions.with_raw_response.create(
        model="anthropic-main/claude-sonnet-4-5",
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"seed€": 1, "evil\r\nx-injected: yes": 2},
    )
    assert raw.http_response.status_code == 200
    assert raw.parse().choices[0].message.content
    dropped = raw.headers["x-proxy-core-dropped-params"]
    assert "seed%E2%82%AC" in dropped and "evil%0D%0Ax-injected: yes" in dropped
    assert "x-injected" not in raw.headers
    assert len(fake_anthropic.requests) == 1
    sent = fake_anthropic.last.json()
    assert "seed€" not in sent and "evil\r\nx-injected: yes" not in sent


def test_a_fallback_that_rejects_does_not_hide_the_primary_error(
    gateway_factory: Callable[..., RunningGateway],
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    openai_for: Callable[..., openai.OpenAI],
) -> None:
    """Was: primary overloaded (529), fallback 400: the client got the fallback's 400,
    about a model it did not choose."""
    from proxy_core.testing import Reply

    config = default_config(openai_url=fake_openai.url, anthropic_url=fake_anthropic.url)
    config["routes"] = {"claude": {"targets": ["anthropic-main/claude-sonnet-4-5", "openai-main/gpt-4o"]}}
    config["plugins"] = {"fallback": {"retry": {"attempts": 1}}}
    gw = gateway_factory(config)
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake_anthropic.queue(Reply.json(overloaded, 529))
    fake_openai.queue(Reply.json({"error": {"message": "unsupported parameter", "type": "invalid_request_error"}}, 400))
    client = openai_for(gw)
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 529
    error = info.value.body
    assert isinstance(error, dict) and error["type"] == "overloaded_error"
    assert "Overloaded" in info.value.message and "openai-main/gpt-4o" in info.value.message
    assert "unsupported parameter" in info.value.message
    assert info.value.response.headers["x-proxy-core-fallback-error"] == "openai-main/gpt-4o 400"
    assert [len(fake_anthropic.requests), len(fake_openai.requests)] == [1, 1]


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_json_nested_deeper_than_can_be_forwarded_is_a_400(
    gateway_factory: Callable[..., RunningGateway], fake_openai: FakeUpstream, fake_anthropic: FakeUpstream, path: str
) -> None:
    """orjson parses 1,024 levels but writes 254: was a 500 when forwarding."""
    gw = gateway_factory(default_config(openai_url=fake_openai.url, anthropic_url=fake_anthropic.url))
    deep = "[" * 300 + "]" * 300
    schema = f'{{"type": "object", "x": {deep}}}'
    tool = (
        f'{{"type": "function", "function": {{"name": "f", "parameters": {schema}}}}}'
        if "chat" in path
        else f'{{"name": "f", "input_schema": {schema}}}'
    )
    body = (
        '{"model": "anthropic-main/claude-sonnet-4-5", "max_tokens": 5, '
        f'"messages": [{{"role": "user", "content": "hi"}}], "tools": [{tool}]}}'
    )
    answer = httpx.post(gw.url + path, content=body, headers=AUTH, timeout=5)
    assert answer.status_code == 400, answer.text
    assert "nests JSON deeper than 254 levels" in answer.text
    assert fake_anthropic.requests == []
