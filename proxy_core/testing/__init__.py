"""The test kit: fake upstreams on 127.0.0.1, an in-process gateway, SDK clients.

Installed as a pytest plugin (``pytest11`` entry point ``proxy_core``); third-party
plugin authors get the same fixtures: ``fake_openai``, ``fake_anthropic``,
``gateway_factory``, ``gateway``, ``openai_client``, ``anthropic_client``.
"""

from .fake_upstream import FakeUpstream, RecordedRequest, Reply
from .server import GATEWAY_KEY, BackgroundLoop, RunningGateway, ServedApp, default_config, run_fake, serve_gateway

__all__ = [
    "GATEWAY_KEY",
    "BackgroundLoop",
    "FakeUpstream",
    "RecordedRequest",
    "Reply",
    "RunningGateway",
    "ServedApp",
    "default_config",
    "run_fake",
    "serve_gateway",
]
