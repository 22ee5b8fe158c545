"""The test kit's fake upstream keeps a connection alive across replies that made it wait."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from proxy_core.testing import FakeUpstream, Reply


async def _sequential_requests(fake: FakeUpstream) -> list[httpx.Response]:
    big = b"x" * (4 * 1024 * 1024)  # more than a socket buffer: drain() has to wait
    fake.queue(
        Reply.json({"n": 1}, delay_before=0.05),
        Reply.raw(big),
        Reply.sse([{"n": 1}, {"n": 2}], delay_between=0.02),
        Reply.json({"n": 4}),
    )
    async with httpx.AsyncClient(base_url=fake.url) as client:
        return [await client.post(f"/r{i}", content=b"{}") for i in range(4)]


def test_keep_alive_survives_delays_and_large_bodies(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> tuple[list[httpx.Response], FakeUpstream]:
        fake = FakeUpstream("openai")
        await fake.start()
        try:
            return await _sequential_requests(fake), fake
        finally:
            await fake.stop()

    with caplog.at_level(logging.WARNING):
        responses, fake = asyncio.run(scenario())

    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    assert len(responses[1].content) == 4 * 1024 * 1024
    assert responses[2].text == 'data: {"n":1}\n\ndata: {"n":2}\n\n'
    assert [r.path for r in fake.requests] == ["/r0", "/r1", "/r2", "/r3"]
    assert fake.connections_accepted == 1, "every request after a wait opened a new connection"
    assert not fake.disconnects
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_disconnect_during_a_delay_is_still_observed() -> None:
    async def scenario() -> FakeUpstream:
        fake = FakeUpstream("openai")
        await fake.start()
        fake.queue(Reply.json({}, delay_before=5.0))
        try:
            async with httpx.AsyncClient(base_url=fake.url) as client:
                with pytest.raises(httpx.ReadTimeout):
                    await client.post("/slow", content=b"{}", timeout=httpx.Timeout(5.0, read=0.1))
            await asyncio.to_thread(fake.wait_for_disconnect, 2.0)
            return fake
        finally:
            await fake.stop()

    fake = asyncio.run(scenario())
    assert [d.path for d in fake.disconnects] == ["/slow"]
    assert fake.disconnects[0].events_sent == 0
