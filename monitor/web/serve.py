"""Where `newsmon web` listens, and serving it: in the foreground (`newsmon web`) or in a thread of the
daemon (`newsmon run --web`), which hands it each reloaded config."""

from __future__ import annotations

import signal
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig
from monitor.errors import ConfigError, NewsmonError
from monitor.web.security import is_loopback

START_TIMEOUT = 20.0


def listen_address(config: NewsmonConfig, host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """The address to serve on (flags over web.listen), refused off loopback without web.token."""
    default_host, _, default_port = config.web.listen.rpartition(":")
    host = host or default_host.strip("[]")
    port = port if port is not None else int(default_port)
    if not 0 <= port <= 65535:
        raise ConfigError(str(config.config_dir / "newsmon.yaml"), "web.listen", f"port {port} is not 0-65535")
    if not is_loopback(host) and config.web.token is None:
        raise ConfigError(str(config.config_dir / "newsmon.yaml"), "web.token",
                          f"refusing to serve {host}:{port} without a token: anyone who can reach it could read "
                          "the archive. Set web.token (e.g. token: ${NEWSMON_WEB_TOKEN}) or listen on 127.0.0.1")
    return host, port


def _server(config: NewsmonConfig, sessions: sessionmaker[Session], host: str, port: int):
    import uvicorn

    from monitor.web import create_app

    app = create_app(config, sessions)
    return app, uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                              server_header=False))


def serve_foreground(config: NewsmonConfig, sessions: sessionmaker[Session], host: str, port: int,
                     echo=print) -> int:
    """`newsmon web`: serve until SIGTERM or SIGINT, then finish open requests and exit 0 (uvicorn's own
    handling would end the process by the signal instead)."""
    web = WebThread(config, sessions, host, port)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda _signum, _frame: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        web.start()
        echo(f"newsmon web on http://{host}:{port}/ (API: /api/, OpenAPI: /openapi.json); Ctrl-C or SIGTERM to stop")
        while not stop.wait(0.5):
            if not web.thread.is_alive():
                echo("the web server stopped unexpectedly")
                return 1
        return 0
    finally:
        web.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class WebThread:
    """The web view inside another process: started before the daemon's loop, stopped after it."""

    def __init__(self, config: NewsmonConfig, sessions: sessionmaker[Session], host: str, port: int):
        self.host, self.port = host, port
        self.app, self.server = _server(config, sessions, host, port)
        self.thread = threading.Thread(target=self._run, name="newsmon-web", daemon=True)
        self.failure: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # uvicorn exits (SystemExit) when it cannot bind: report it to start()
            self.failure = exc

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise NewsmonError(f"the web view could not listen on {self.host}:{self.port} (see the line above; "
                                   "is the port taken?): choose another with web.listen in newsmon.yaml or --port")
            time.sleep(0.05)

    def reload(self, config: NewsmonConfig) -> None:
        """A reloaded config's rules and sources show at once; a new web.token or address needs a restart."""
        self.app.state.web.config = config

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(10)
