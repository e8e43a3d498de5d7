"""tests/helpers/tcp_proxy.py against the real Redis: through the proxy, cut, restored."""

from __future__ import annotations

import socket
import uuid

import pytest
import redis

from tests.helpers.tcp_proxy import TcpProxy


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def _refused(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:port. A connect to a free port of the ephemeral range can, rarely,
    connect to itself (TCP simultaneous open: the kernel picked that very port as the source): nothing
    listens then either."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    except ConnectionRefusedError:
        return True
    with sock:
        return sock.getsockname() == sock.getpeername()


def test_redis_through_the_proxy_fails_while_cut_and_works_once_restored(redis_url):
    key = f"test-newsmon:tcp-proxy:{uuid.uuid4().hex}"
    with TcpProxy("127.0.0.1", 6379) as proxy:
        url = proxy.url_for(redis_url)
        assert url == f"redis://127.0.0.1:{proxy.port}/15"
        client = _client(url)
        try:
            client.set(key, b"before", ex=60)
            assert client.get(key) == b"before"
            assert proxy.connections == 1
            port = proxy.port

            proxy.cut()
            assert proxy.is_cut and proxy.connections == 0
            with pytest.raises(redis.ConnectionError):
                client.get(key)  # the open connection was closed
            with pytest.raises(redis.ConnectionError):
                client.get(key)  # and a new one is refused
            fresh = _client(url)
            with pytest.raises(redis.ConnectionError):
                fresh.ping()
            fresh.close()
            assert _refused(port)

            proxy.restore()
            assert proxy.port == port and not proxy.is_cut
            assert client.get(key) == b"before"  # the same client reconnects, on the same port
            client.set(key, b"after", ex=60)
            assert redis.Redis.from_url(redis_url).get(key) == b"after"  # it reached the real Redis

            proxy.cut()  # and again
            with pytest.raises(redis.ConnectionError):
                client.get(key)
            proxy.restore()
            assert client.get(key) == b"after"
        finally:
            client.close()
            redis.Redis.from_url(redis_url).delete(key)
    assert proxy.is_cut  # stopped on leaving the block
    assert _refused(proxy.port)


def test_many_connections_are_cut_at_once(redis_url):
    with TcpProxy("127.0.0.1", 6379) as proxy:
        pool = redis.ConnectionPool.from_url(proxy.url_for(redis_url), socket_timeout=5)
        clients = [redis.Redis(connection_pool=pool) for _ in range(20)]
        connections = [pool.get_connection("PING") for _ in range(20)]
        for connection in connections:
            connection.send_command("PING")
            assert connection.read_response() in (b"PONG", "PONG", True)
        assert proxy.connections == 20
        proxy.cut()
        assert proxy.connections == 0
        for connection in connections:
            with pytest.raises(redis.ConnectionError):
                connection.send_command("PING")
                connection.read_response()
            pool.release(connection)
        proxy.restore()
        assert all(client.ping() for client in clients)
        pool.disconnect()


def test_url_for_keeps_user_path_and_query():
    proxy = TcpProxy("127.0.0.1", 5432, listen_port=0)
    proxy.port = 40000  # as if started
    assert (proxy.url_for("postgresql+psycopg://postgres:secret@127.0.0.1:5432/test?sslmode=disable")
            == "postgresql+psycopg://postgres:secret@127.0.0.1:40000/test?sslmode=disable")
    assert proxy.url_for("redis://localhost/0") == "redis://127.0.0.1:40000/0"


def test_a_target_that_refuses_closes_the_client_at_once():
    with socket.socket() as spare:  # a port nothing listens on
        spare.bind(("127.0.0.1", 0))
        dead_port = spare.getsockname()[1]
    with TcpProxy("127.0.0.1", dead_port) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
            assert client.recv(1) == b""  # closed, not left hanging
        assert proxy.accepted == 1 and proxy.connections == 0
