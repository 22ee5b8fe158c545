"""A closed-loop HTTP/1.1 load generator for `make bench` (keep-alive, raw sockets).

``python -m proxy_core.devtools.bench_load [--pause=S] URL PATH BODY_JSON CONNECTIONS SECONDS MARKER [HEADER...]``
prints one JSON object: requests, errors, req/s, p50 and p99 latency in ms. With
``--pause=S`` each connection waits an exponential pause of mean S after each answer
(a paced, light load: latency without queueing).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from urllib.parse import urlsplit

import orjson


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    i = lower.find(b"content-length:")
    if i >= 0:
        length = int(lower[i + 15 : lower.find(b"\r\n", i)])
        return status, await reader.readexactly(length)
    if b"transfer-encoding: chunked" in lower:
        parts: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, b"".join(parts)
            parts.append(chunk[:-2])
    return status, await reader.read()


async def _worker(
    host: str,
    port: int,
    request: bytes,
    marker: bytes,
    deadline: float,
    lat: list[float],
    errors: list[int],
    pause_s: float = 0.0,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            writer.write(request)
            status, body = await _read_response(reader)
            if status == 200 and marker in body:
                lat.append(time.perf_counter() - t0)
            else:
                errors.append(status)
            if pause_s:  # paced: exponential pauses, ~conns / pause_s requests per second in all
                await asyncio.sleep(random.expovariate(1 / pause_s))
    finally:
        writer.close()


async def run(
    url: str,
    path: str,
    body: bytes,
    conns: int,
    seconds: float,
    marker: bytes,
    headers: list[str],
    pause_s: float = 0.0,
) -> dict[str, float]:
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    head = f"POST {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
    head += "".join(h + "\r\n" for h in headers)
    request = (head + f"content-length: {len(body)}\r\n\r\n").encode() + body
    lat: list[float] = []
    errors: list[int] = []
    # warm-up: one request per connection before timing
    await asyncio.gather(
        *[_worker(host, port, request, marker, time.perf_counter() + 0.2, [], []) for _ in range(conns)]
    )
    start = time.perf_counter()
    await asyncio.gather(
        *[_worker(host, port, request, marker, start + seconds, lat, errors, pause_s) for _ in range(conns)]
    )
    elapsed = time.perf_counter() - start
    lat.sort()

    def pick(q: float) -> float:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2) if lat else 0.0

    return {
        "requests": len(lat),
        "errors": len(errors),
        "rps": round(len(lat) / elapsed, 1),
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
    }


if __name__ == "__main__":
    import uvloop

    args = sys.argv[1:]
    pause = float(args.pop(0).split("=", 1)[1]) if args[0].startswith("--pause=") else 0.0
    url, path, body, conns, seconds, marker, *hdrs = args
    result = uvloop.run(run(url, path, body.encode(), int(conns), float(seconds), marker.encode(), hdrs, pause))
    print(orjson.dumps(result).decode())
