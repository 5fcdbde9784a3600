"""``swfeed serve`` facing stalled clients: a real subprocess, real sockets, a small file limit.

Hundreds of clients that connect and never finish their request headers must neither
starve a normal client nor flood the log.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.smtpfixture import free_port, write_config
from tests.test_web import RSS, populate

STALLED = 400
FILE_LIMIT = 256
#: How long a normal client waits (the target is well within a second; see the benchmark).
CLIENT_TIMEOUT = 5.0
#: The most the server may log while it sheds the stalled clients.
LOG_LIMIT = 20_000


@contextmanager
def serving(config: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``swfeed serve`` in a subprocess with a file limit of 256, until the block ends."""
    with log.open("wb") as out:
        command = [sys.executable, "-m", "swfeed", "--config", str(config), "serve"]
        process = subprocess.Popen(
            [
                "sh",
                "-c",
                f'ulimit -n {FILE_LIMIT} && exec "$@"',
                "serve",
                *command,
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        _wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("the server did not start listening")


def stall(port: int, count: int, stack: ExitStack) -> int:
    """Open ``count`` connections that send half a request head and then nothing."""
    opened = 0
    deadline = time.monotonic() + 30
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"GET /feeds/rss.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        except OSError:
            continue
        stack.enter_context(sock)
        opened += 1
    return opened


@pytest.mark.slow
def test_normal_request_is_answered_beside_400_stalled_clients(tmp_path: Path) -> None:
    """With 400 clients stalled mid-headers and a file limit of 256, a GET is still answered."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < STALLED + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    config = write_config(tmp_path, method="outbox")
    populate(tmp_path / "public")
    port = free_port()
    log = tmp_path / "serve.log"
    with serving(config, port, log), ExitStack() as stalled:
        opened = stall(port, STALLED, stalled)
        with httpx.Client(timeout=CLIENT_TIMEOUT) as client:
            response = client.get(f"http://127.0.0.1:{port}/feeds/rss.xml")
        assert opened > FILE_LIMIT
        assert response.status_code == 200
        assert response.text == RSS
    assert log.stat().st_size < LOG_LIMIT, log.read_text(errors="replace")[-2000:]
