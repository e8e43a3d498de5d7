"""`newsmon web [--host H] [--port P]`: serve the pages and the JSON API (monitor.web)."""

from __future__ import annotations

import argparse

from monitor.commands.common import open_archive
from monitor.config import NewsmonConfig
from monitor.errors import ConfigError


def listen_address(config: NewsmonConfig, host: str | None, port: int | None) -> tuple[str, int]:
    default_host, _, default_port = config.web.listen.rpartition(":")
    return host or default_host.strip("[]"), port if port is not None else int(default_port)


def cmd_web(config: NewsmonConfig, args: argparse.Namespace) -> int:
    from monitor.web.security import is_loopback

    host, port = listen_address(config, args.host, args.port)
    if not is_loopback(host) and config.web.token is None:
        raise ConfigError(str(config.config_dir / "newsmon.yaml"), "web.token",
                          f"refusing to serve {host}:{port} without a token: anyone who can reach it could read "
                          "the archive. Set web.token (e.g. token: ${NEWSMON_WEB_TOKEN}) or listen on 127.0.0.1")
    import uvicorn

    from monitor.web import create_app

    _engine, sessions = open_archive(config)
    print(f"newsmon web on http://{host}:{port}/ (API: /api/, OpenAPI: /openapi.json)", flush=True)
    uvicorn.run(create_app(config, sessions), host=host, port=port, log_level="warning", access_log=False,
                server_header=False)
    return 0
