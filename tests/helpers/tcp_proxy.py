"""A TCP proxy in front of a real service, for tests of an outage: cut it, then restore it.

    with TcpProxy("127.0.0.1", 6379) as proxy:            # listens on 127.0.0.1, a free port
        url = proxy.url_for("redis://127.0.0.1:6379/15")  # redis://127.0.0.1:<proxy.port>/15
        ...                                               # clients on `url` reach Redis through the proxy
        proxy.cut()        # every open connection closed; new ones refused (nothing listens on the port)
        proxy.restore()    # listening again, on the same port
        proxy.connections  # connections open through the proxy now

Threads only: one accepts; for each connection one connects to the target, then two copy
bytes (one each way; a half-close is passed on). A connection the target refuses is closed
at once. After cut() returns, every connection from before is closed (the client sees the
server close it) and a connect to the port is refused until restore().
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, listen_host: str = "127.0.0.1", listen_port: int = 0,
                 *, connect_timeout: float = 5.0):
        self.target = (target_host, target_port)
        self.host = listen_host
        self.port = listen_port  # the real port once started (a free one when 0)
        self.connect_timeout = connect_timeout
        self.accepted = 0  # connections accepted, in all
        self._lock = threading.Lock()
        self._open: set[_Link] = set()  # every connection through the proxy (or connecting)
        self._stop = threading.Event()
        self._acceptor: threading.Thread | None = None
        self._cut = True  # not listening until started

    # --- addresses ---------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def url_for(self, url: str) -> str:
        """`url` (to the target, or anywhere) with its host and port the proxy's; user, path and query kept."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = f"{userinfo}@{host}:{self.port}" if userinfo else f"{host}:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._open)

    @property
    def is_cut(self) -> bool:
        return self._cut

    # --- outage ------------------------------------------------------------

    def cut(self) -> None:
        """Stop listening (connects are refused) and close every connection through the proxy."""
        with self._lock:
            if self._cut:
                return
            self._cut = True
        self._stop.set()
        if self._acceptor is not None:
            self._acceptor.join()  # it closes the listening socket on its way out
            self._acceptor = None
        with self._lock:
            doomed = list(self._open)
            for link in doomed:
                link.shut()
        for link in doomed:
            link.join(timeout=5)  # each link's threads close its sockets as they finish

    def restore(self) -> None:
        """Listen again, on the same port."""
        with self._lock:
            if not self._cut:
                return
        listener = self._listen()
        with self._lock:
            self._cut = False
        self._stop = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, args=(listener, self._stop), daemon=True,
                                          name=f"tcp-proxy-{self.port}")
        self._acceptor.start()

    # --- running -----------------------------------------------------------

    def start(self) -> TcpProxy:
        self.restore()
        return self

    def stop(self) -> None:
        self.cut()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _listen(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        deadline = time.monotonic() + 5
        while True:
            listener = socket.socket(family, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((self.host, self.port))
            except OSError:
                listener.close()
                if not self.port or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # the port again, once whatever still holds it lets go
                continue
            listener.listen(128)
            listener.settimeout(0.05)  # how soon the acceptor sees a cut
            self.port = listener.getsockname()[1]
            return listener

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    client, _address = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    if stop.is_set():
                        return
                    raise
                client.settimeout(None)
                link = _Link(client)
                with self._lock:
                    self.accepted += 1
                    self._open.add(link)
                link.start(self._connect, name=f"tcp-proxy-{self.port}-connect")
        finally:
            listener.close()

    def _connect(self, link: _Link) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=self.connect_timeout)
        except OSError:
            upstream = None
        with self._lock:
            if upstream is None or link.cut:  # refused, or cut while connecting
                self._open.discard(link)
                if upstream is not None:
                    upstream.close()
                link.client.close()
                return
            upstream.settimeout(None)
            link.upstream = upstream
        for sock in (link.client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link.start(self._pipe, link.client, upstream, name=f"tcp-proxy-{self.port}-up")
        link.start(self._pipe, upstream, link.client, name=f"tcp-proxy-{self.port}-down")

    def _pipe(self, link: _Link, source: socket.socket, sink: socket.socket) -> None:
        """Copy source to sink until source ends (then end sink's writing side: a half-close passed on) or either
        fails (then shut both); the last of a link's two pipes to finish closes both sockets."""
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
            _shutdown(sink, socket.SHUT_WR)
        except OSError:
            _shutdown(source, socket.SHUT_RDWR)
            _shutdown(sink, socket.SHUT_RDWR)
        with self._lock:
            link.pipes_done += 1
            if link.pipes_done < 2:
                return
            self._open.discard(link)
        source.close()
        sink.close()


class _Link:
    """One connection through the proxy: the client's socket, the target's (once connected), and the threads."""

    def __init__(self, client: socket.socket):
        self.client = client
        self.upstream: socket.socket | None = None
        self.threads: list[threading.Thread] = []
        self.pipes_done = 0
        self.cut = False

    def start(self, target, *args, name: str) -> None:
        thread = threading.Thread(target=target, args=(self, *args), daemon=True, name=name)
        self.threads.append(thread)
        thread.start()

    def shut(self) -> None:
        """Under the proxy's lock: both sockets shut, which wakes the threads on them, which then close them."""
        self.cut = True
        for sock in (self.client, self.upstream):
            if sock is not None:
                _shutdown(sock, socket.SHUT_RDWR)

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        joined = 0
        while joined < len(self.threads):  # the connecting thread adds the pipes before it ends
            self.threads[joined].join(max(0.0, deadline - time.monotonic()))
            joined += 1


def _shutdown(sock: socket.socket, how: int) -> None:
    try:
        sock.shutdown(how)
    except OSError:
        pass  # not connected any more
