"""The real ``autograd-lite playground`` in a subprocess, for the server and browser tests.

:func:`serve` starts the command on a free port (``--port 0 --no-browser``), reads
its first stdout line (``playground: http://HOST:PORT/?token=TOKEN``) and yields a
:class:`Server`; on exit it sends SIGINT and checks the exit code 0. ``messages``
drives the WebSocket as a page does.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIRST_LINE = re.compile(r"playground: (http://([^/:]+):(\d+)/\?token=([0-9a-f]+))")
STARTUP = 30.0  # seconds to wait for the first line (the machine may be busy)


@dataclass
class Server:
    process: subprocess.Popen
    url: str  # the printed URL, token included
    base: str  # http://HOST:PORT
    token: str
    out: Path

    def ws_url(self, token: str | None = None) -> str:
        query = "" if token is None else f"?token={token}"
        return self.base.replace("http://", "ws://") + "/ws" + query

    def stop(self, timeout: float = 20.0) -> tuple[int, str, str]:
        """SIGINT, then (exit code, rest of stdout, stderr)."""
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err


def start(out: Path, *args: str) -> Server:
    """Start the command; return once it printed its URL (or fail with its stderr)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "autograd_lite", "playground", "--port", "0", "--no-browser"]
        + ["--out", str(out), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + STARTUP
    line = process.stdout.readline()
    match = FIRST_LINE.fullmatch(line.rstrip("\n"))
    if match is None or time.monotonic() > deadline:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"the playground did not print its URL: {line!r}; stderr: {err}")
    url, host, port, token = match.groups()
    return Server(process, url, f"http://{host}:{port}", token, out)


@contextmanager
def serve(out: Path, *args: str) -> Iterator[Server]:
    """The playground running; on exit SIGINT must end it with exit code 0."""
    server = start(out, *args)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            code, _, err = server.stop()
            assert code == 0, err


def receive(socket: Any, want: str, timeout: float = 15.0, **match: Any) -> dict[str, Any]:
    """The next message of type ``want`` (frames skipped otherwise) whose fields match."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {want!r} message with {match} within {timeout} s")
        message = json.loads(socket.recv(timeout=left))
        if message["type"] == want and all(message.get(k) == v for k, v in match.items()):
            return message


def ask(socket: Any, message: dict[str, Any] | str, ident: int) -> dict[str, Any]:
    """Send a message (an object gets ``id``) and return the reply to it."""
    if isinstance(message, dict):
        message = json.dumps({**message, "id": ident})
    socket.send(message)
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        reply = json.loads(socket.recv(timeout=deadline - time.monotonic()))
        if reply["type"] in ("ok", "error") and reply.get("id", ident) == ident:
            return reply
    raise AssertionError(f"no reply to {message!r}")
