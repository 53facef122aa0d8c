"""Even out kept-alive connections over the workers of `kb serve --workers N` (Linux).

Each worker listens on its own SO_REUSEPORT socket, and the kernel hashes every new connection to one of them.
For a handful of long-lived connections the hash is lumpy: 8 clients split 4/4 only 27% of the time, and 5/3,
6/2 or 7/1 otherwise, so one worker queues requests on its core while the other has little to do (measured
here with 8 clients: 66 requests/s and p95 205-221 ms on a 6/2 or 7/1 split, 83 requests/s and p95 147 ms on 4/4).

A worker that holds more than its share of the server's connections, ``ceil(total / workers)``, answers one
request with ``Connection: close``. The client opens a new connection, which the kernel hashes again; within a
few such requests every worker holds its share. Clients lose nothing: HTTP/1.1 clients reconnect on their own
after a response that says it closes the connection. The counts come from ``psutil.net_connections`` (every
established connection to the port, and which process holds each), read by a thread while requests arrive:
when this worker's file descriptors changed, else every few seconds (``ConnectionShare``); a worker asks for at
most one reconnection per reading.
"""

from __future__ import annotations

import math
import os
import threading
import time

import psutil
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ENV = "KB_SERVE_BALANCE"  # "<port>:<workers>", set by `kb serve` for its workers; not a user setting


def connection_counts(port: int, pid: int | None = None) -> tuple[int, int]:
    """(established TCP connections to ``port`` on this host, how many of them process ``pid`` holds).

    :param pid: the process to count for; default: this one.
    """
    pid = os.getpid() if pid is None else pid
    total = mine = 0
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_ESTABLISHED and conn.laddr and conn.laddr.port == port:
            total += 1
            mine += conn.pid == pid
    return total, mine


class ConnectionShare:
    """Whether this worker should hand one connection back, judged by a thread that reads the counts.

    Counting costs 10-25 ms here however few connections there are (the kernel's connection tables and every
    process's descriptors are read), so it happens on a daemon thread while requests arrive, never on the event
    loop; ``over_share`` only reads the latest verdict. Each verdict sends back at most one connection: the
    counts are stale until the client has reconnected.

    The thread looks every ``interval`` seconds at how many file descriptors this process holds (cheap; a
    connection opened or closed changes it) and counts when that changed, or else every ``settled`` seconds, for
    connections the other workers gained or lost. Counting every half second under steady traffic took ~4% of
    the server's CPU, holding the GIL (py-spy, 8 clients).
    """

    def __init__(self, port: int, workers: int, interval: float = 0.5, settled: float = 5.0) -> None:
        self.port = port
        self.workers = workers
        self.interval = interval
        self.settled = settled
        self._over = False
        self._last_request = 0.0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> ConnectionShare | None:
        """The share of a `kb serve` worker on Linux (``ENV`` names the port and workers), else None."""
        port, _, workers = os.environ.get(ENV, "").partition(":")
        if not (port.isdigit() and workers.isdigit() and int(workers) > 1 and psutil.LINUX):
            return None
        return cls(int(port), int(workers))

    def over_share(self) -> bool:
        """True for one response after each reading that found this worker over its share (no I/O here)."""
        self._last_request = time.monotonic()
        if self._thread is None:
            with self._lock:
                if self._thread is None:  # started in the worker on first use, not in the process that forked it
                    self._thread = threading.Thread(target=self._watch, name="kb-connection-share", daemon=True)
                    self._thread.start()
        if self._over:
            self._over = False
            return True
        return False

    def _watch(self) -> None:
        me = psutil.Process()
        seen: int | None = None
        last_read = 0.0
        while True:
            time.sleep(self.interval)
            now = time.monotonic()
            if now - self._last_request > 2 * self.interval:
                continue  # no traffic: nothing to balance, nothing to read
            fds = me.num_fds()
            if fds == seen and now - last_read < self.settled:
                continue  # no connection of ours opened or closed since we counted
            total, mine = connection_counts(self.port, me.pid)
            seen, last_read = fds, now
            self._over = mine > math.ceil(total / self.workers)


class RebalanceConnections:
    """ASGI middleware: ``Connection: close`` on a response when this worker holds more than its share."""

    def __init__(self, app: ASGIApp, share: ConnectionShare) -> None:
        self.app = app
        self.share = share

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_maybe_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and self.share.over_share():
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        await self.app(scope, receive, send_maybe_closing)
