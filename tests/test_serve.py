"""`kb serve` as users start it: a real process on a loopback port, several workers sharing the load."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KB = Path(sys.executable).with_name("kb")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_both_take_connections_and_answer_alike(indexed_corpus):
    port = _free_port()
    env = {**os.environ, "KB_INDEX_DIR": str(indexed_corpus.index_dir), "KB_WORKERS": "2"}
    server = subprocess.Popen([str(KB), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    clients: list[httpx.Client] = []
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "kb serve did not come up"
            time.sleep(0.5)
        # 16 kept-alive connections, as 16 browser tabs would hold: the kernel spreads them over the workers'
        # sockets (all 16 on one of two workers has odds of 1 in 32,768).
        answers = []
        for _ in range(16):
            c = httpx.Client(base_url=base, timeout=60)
            clients.append(c)
            r = c.get("/search", params={"q": "protection of victims of trafficking", "top_k": 5})
            assert r.status_code == 200, r.text
            answers.append([x["section_id"] for x in r.json()["results"]])
        assert all(a == answers[0] for a in answers) and answers[0]
        workers = psutil.Process(server.pid).children(recursive=True)
        holding = []
        for w in workers:
            try:
                conns = w.net_connections(kind="tcp")
            except psutil.Error:
                continue
            n = sum(1 for c in conns if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)
            if n:
                holding.append(n)
        assert len(holding) == 2 and sum(holding) == 16, f"connections per worker: {holding}"
    finally:
        for c in clients:
            c.close()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
