"""The web console: the app at ``/ui`` and the read-only account view it uses.

Routes (each also under ``/v1``, as every plugin route): ``GET /ui`` redirects to
``ui/``; ``GET /ui/`` and ``GET /ui/{name}`` serve the packaged files;
``GET /admin/console/accounts`` lists the accounts the caller may administer. The page
itself holds no secret: the gateway key is typed in, kept in the tab's session storage
and sent as a header by the page's own requests.
"""

from __future__ import annotations

from collections.abc import Callable

from proxy_core import hookimpl
from proxy_core.config import ConfigError
from proxy_core.gateway import Gateway

from .accounts import accounts_endpoint
from .static import ConsoleFiles, load_assets

NAME = "console"


@hookimpl
def register_routes(register: Callable[..., None], gateway: Gateway) -> None:
    unknown = sorted(gateway.config.plugin_section(NAME))
    if unknown:
        raise ConfigError([f"plugins.console.{k}: unknown setting (the console has none)" for k in unknown])
    files = ConsoleFiles(load_assets())
    register("/ui", files.redirect, methods=["GET"])
    register("/ui/", files.file, methods=["GET"])
    register("/ui/{name}", files.file, methods=["GET"])
    register("/admin/console/accounts", accounts_endpoint(gateway), methods=["GET"])
