"""Even out kept-alive connections over the workers of `kb serve --workers N` (Linux).

Each worker listens on its own SO_REUSEPORT socket, and the kernel hashes every new connection to one of them.
For a handful of long-lived connections the hash is lumpy: 8 clients split 4/4 only 27% of the time, and 5/3,
6/2 or 7/1 otherwise, so one worker queues requests on its core while the other has little to do (measured
here with 8 clients: 66 requests/s and p95 205-221 ms on a 6/2 or 7/1 split, 83 requests/s and p95 147 ms on 4/4).

A worker that holds more than its share of the server's connections, ``ceil(total / workers)``, answers one
request with ``Connection: close``. The client opens a new connection, which the kernel hashes again; within a
few such requests every worker holds its share. Clients lose nothing: HTTP/1.1 clients reconnect on their own
after a response that says it closes the connection. Counts come from ``/proc/net/tcp{,6}`` (every established
connection to the port) and this process's file descriptors (which of them are ours), read by a thread while
requests arrive: when this worker's connections changed, else every few seconds (``ConnectionShare``); a worker
asks for at most one reconnection per reading.
"""

from __future__ import annotations

import math
import os
import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ENV = "KB_SERVE_BALANCE"  # "<port>:<workers>", set by `kb serve` for its workers; not a user setting
_ESTABLISHED = "01"


def own_sockets() -> frozenset[str]:
    """Inodes of the sockets this process holds (from its file descriptors; no kernel table walked)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return frozenset(inodes)


def connection_counts(port: int, mine_inodes: frozenset[str]) -> tuple[int, int]:
    """(established connections to ``port`` on this host, how many of them are the sockets ``mine_inodes``)."""
    total = mine = 0
    suffix = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)  # the header
                for line in f:
                    fields = line.split()
                    if fields[3] == _ESTABLISHED and fields[1].endswith(suffix):
                        total += 1
                        mine += fields[9] in mine_inodes
        except OSError:
            continue
    return total, mine


class ConnectionShare:
    """Whether this worker should hand one connection back, judged by a thread that reads the counts.

    Reading ``/proc/net/tcp`` costs 4-10 ms here however few connections there are (the kernel walks its whole
    connection hash table), so it happens on a daemon thread while requests arrive, never on the event loop;
    ``over_share`` only reads the latest verdict. Each verdict sends back at most one connection: the counts are
    stale until the client has reconnected.

    The thread looks every ``interval`` seconds at which sockets this process holds (its file descriptors, cheap)
    and reads the table when they changed, or else every ``settled`` seconds, for connections the other workers
    gained or lost. Reading it every half second under steady traffic took ~4% of the server's CPU, holding the
    GIL while it parsed the table (py-spy, 8 clients).
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
        spec = os.environ.get(ENV, "")
        port, _, workers = spec.partition(":")
        if not (port.isdigit() and workers.isdigit() and int(workers) > 1 and os.path.exists("/proc/net/tcp")):
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
        seen: frozenset[str] | None = None
        last_read = 0.0
        while True:
            time.sleep(self.interval)
            now = time.monotonic()
            if now - self._last_request > 2 * self.interval:
                continue  # no traffic: nothing to balance, nothing to read
            sockets = own_sockets()
            if sockets == seen and now - last_read < self.settled:
                continue  # our connections are the ones we counted last time
            total, mine = connection_counts(self.port, sockets)
            seen, last_read = sockets, now
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
