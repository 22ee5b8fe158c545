"""pytest fixtures for proxy-core and its plugins (loaded through the ``pytest11`` entry point)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ..gateway import Gateway
from .fake_upstream import FakeUpstream
from .server import GATEWAY_KEY, BackgroundLoop, RunningGateway, default_config, run_fake, serve_gateway


@pytest.fixture(scope="session")
def proxy_core_loop() -> Iterator[BackgroundLoop]:
    loop = BackgroundLoop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def _fake_openai_server(proxy_core_loop: BackgroundLoop) -> Iterator[FakeUpstream]:
    yield from run_fake(proxy_core_loop, FakeUpstream("openai"))


@pytest.fixture(scope="session")
def _fake_anthropic_server(proxy_core_loop: BackgroundLoop) -> Iterator[FakeUpstream]:
    yield from run_fake(proxy_core_loop, FakeUpstream("anthropic"))


@pytest.fixture
def fake_openai(_fake_openai_server: FakeUpstream) -> FakeUpstream:
    """A fake OpenAI upstream on 127.0.0.1, reset for each test."""
    _fake_openai_server.reset()
    return _fake_openai_server


@pytest.fixture
def fake_anthropic(_fake_anthropic_server: FakeUpstream) -> FakeUpstream:
    """A fake Anthropic upstream on 127.0.0.1, reset for each test."""
    _fake_anthropic_server.reset()
    return _fake_anthropic_server


@pytest.fixture
def gateway_config(fake_openai: FakeUpstream) -> dict[str, Any]:
    """The default config: one key (GATEWAY_KEY), an ``openai-main`` account on the fake.

    Plugin test suites override this fixture to add their accounts
    (``default_config(openai_url, anthropic_url)`` builds both).
    """
    return default_config(openai_url=fake_openai.url)


@pytest.fixture
def gateway_factory(proxy_core_loop: BackgroundLoop) -> Iterator[Callable[..., RunningGateway]]:
    """``gateway_factory(config_dict, **Gateway kwargs)`` -> a started RunningGateway."""
    running: list[RunningGateway] = []

    def make(config: dict[str, Any], **kwargs: Any) -> RunningGateway:
        gw = RunningGateway(Gateway(config, **kwargs), proxy_core_loop).start()
        running.append(gw)
        return gw

    yield make
    for gw in running:
        gw.stop()


@pytest.fixture
def gateway(gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]) -> RunningGateway:
    return gateway_factory(gateway_config)


@pytest.fixture
def openai_client(gateway: RunningGateway) -> Iterator[Any]:
    """The official openai SDK pointed at ``gateway`` (``/v1``), no retries."""
    import openai

    with openai.OpenAI(base_url=gateway.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10) as client:
        yield client


@pytest.fixture
def openai_for() -> Iterator[Callable[..., Any]]:
    """``openai_for(gateway_or_url, key=GATEWAY_KEY)``: an openai SDK client on ``/v1``,
    no retries, closed after the test."""
    import openai

    clients: list[openai.OpenAI] = []

    def make(target: RunningGateway | str, key: str = GATEWAY_KEY) -> openai.OpenAI:
        url = target if isinstance(target, str) else target.url
        client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=15)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def anthropic_client(gateway: RunningGateway) -> Iterator[Any]:
    """The official anthropic SDK pointed at ``gateway``, no retries."""
    import anthropic

    with anthropic.Anthropic(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0, timeout=10) as client:
        yield client


def shared_gateway(build_config: Callable[[str, str], dict[str, Any]]) -> tuple[Any, Any, Any]:
    """Fixtures for a plugin's conftest: one gateway for the whole session, built from
    ``build_config(anthropic_url, openai_url)``, with the fakes reset for every test::

        gateway_config, _shared_gateway, gateway = shared_gateway(my_config)

    Starting a gateway costs ~0.3 s; tests that need another config still use
    ``gateway_factory(gateway_config)``.
    """

    @pytest.fixture(name="gateway_config")
    def config_fixture(fake_anthropic: FakeUpstream, fake_openai: FakeUpstream) -> dict[str, Any]:
        return build_config(fake_anthropic.url, fake_openai.url)

    @pytest.fixture(name="_shared_gateway", scope="session")
    def session_fixture(
        proxy_core_loop: BackgroundLoop, _fake_anthropic_server: FakeUpstream, _fake_openai_server: FakeUpstream
    ) -> Iterator[RunningGateway]:
        yield from serve_gateway(proxy_core_loop, build_config(_fake_anthropic_server.url, _fake_openai_server.url))

    @pytest.fixture(name="gateway")
    def gateway_fixture(
        _shared_gateway: RunningGateway, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream
    ) -> RunningGateway:
        return _shared_gateway

    return config_fixture, session_fixture, gateway_fixture
