"""API load: ``kb serve`` in a subprocess, loaded by 1, 8 and 32 kept-alive clients."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from eval.bench.common import API_CONCURRENCY, API_REQUESTS, BENCH_CACHE, percentiles
from ingest.settings import PROJECT_ROOT, Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_api(index_root: Path, settings: Settings, queries: list[dict], log, requests: dict[int, int] | None = None) -> dict:
    """Start ``kb serve`` on a free loopback port against ``index_root`` and load it with 1, 8 and 32 clients."""
    import httpx

    port = _free_port()
    # the model's own dtype (embed_dtype None: bf16 for multilingual-e5-small), as the service resolves it
    env = {**os.environ, "KB_INDEX_DIR": str(index_root), "KB_BACKEND": "embedded",
           "KB_EMBED_DTYPE": settings.resolved_embed_dtype(), "KB_WORKERS": str(settings.workers)}
    kb = Path(sys.executable).with_name("kb")
    cmd = [str(kb), "serve", "--host", "127.0.0.1", "--port", str(port)]
    # The server's log goes to a file: a pipe nobody reads would block the server once it filled.
    log_path = BENCH_CACHE / "api-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("wb")
    server = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)

    def server_log() -> str:
        return log_path.read_text("utf-8", errors="replace")[-2000:]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        path = None
        while time.monotonic() < deadline:
            if server.poll() is not None:
                return {"skipped": f"kb serve exited with {server.returncode}: {server_log()[-500:]}"}
            try:
                r = httpx.get(f"{base}/openapi.json", timeout=2)
                paths = r.json().get("paths", {})
                path = next((p for p in ("/api/search", "/search", "/api/v1/search") if p in paths), None)
                break
            except (httpx.HTTPError, ValueError):
                time.sleep(0.5)
        if path is None:
            return {"skipped": "the API has no search route (looked for /api/search, /search)"}
        texts = [q["text"] for q in queries]
        # warm-up: the model and the index pages
        for t in texts[:10]:
            httpx.get(f"{base}{path}", params={"q": t}, timeout=30).raise_for_status()
        out = {"server": f"kb serve (uvicorn, {settings.workers} worker{'s' if settings.workers > 1 else ''})", "route": f"GET {path}?q=...", "index": str(index_root), "levels": {}}
        for c in API_CONCURRENCY:
            out["levels"][str(c)] = asyncio.run(_load(base + path, texts, c, (requests or API_REQUESTS)[c]))
            log(f"API {c} clients: {out['levels'][str(c)]}")
            if out["levels"][str(c)]["errors"]:
                log(f"the server's log ends with:\n{server_log()}")
        return out
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log_file.close()


class _Connection:
    """One kept-alive HTTP/1.1 connection that sends GETs and reads whole responses: a load generator's client.

    The load generator shares the machine's 2 cores with the server it measures, so its own cost shows up in every
    latency. httpx's AsyncClient spent ~3.5 ms of CPU per request here; reading the status line, the headers and a
    Content-Length (or chunked) body off an asyncio stream costs a fraction of that (``client_cpu_ms`` in the report).
    """

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> int:
        """The response's status; raises OSError, asyncio.IncompleteReadError or TimeoutError on a broken exchange."""
        try:
            return await asyncio.wait_for(self._get(target), self.timeout)
        except BaseException:
            self.close()  # a half-read response would poison the next request on this connection
            raise

    async def _get(self, target: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode("ascii"))
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        else:
            await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _load(url: str, texts: list[str], concurrency: int, total: int, timeout: float = 60.0) -> dict:
    """``concurrency`` clients, each on its own kept-alive connection, send ``total`` searches between them."""
    from urllib.parse import urlencode, urlsplit

    parts = urlsplit(url)
    targets = [f"{parts.path}?{urlencode({'q': t})}" for t in texts]
    lat: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}  # what went wrong: an HTTP status or a transport error's name
    counter = iter(range(total))

    async def client() -> None:
        nonlocal errors
        conn = _Connection(parts.hostname, parts.port, timeout)
        try:
            for i in counter:
                t = time.perf_counter()
                try:
                    status = await conn.get(targets[i % len(targets)])
                    kind = None if status == 200 else f"HTTP {status}"
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
                    kind = type(exc).__name__  # counted, not fatal: the run shows how many failed and how
                lat.append((time.perf_counter() - t) * 1000)
                if kind:
                    errors += 1
                    kinds[kind] = kinds.get(kind, 0) + 1
        finally:
            conn.close()

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"requests": total, "errors": errors, **({"error_kinds": kinds} if kinds else {}), "seconds": round(wall, 2),
            "rps": round(total / wall, 1), "client_cpu_ms": round(cpu * 1000 / max(1, total), 2), **percentiles(lat)}
