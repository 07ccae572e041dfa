"""A Redis server of a test's own, on a free port, that the test may stop and start again.

Never the shared server at 6379: other engineers' runs use it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """redis-server on 127.0.0.1:<port>, no persistence; start() and stop() at will."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.is_up():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def is_up(self) -> bool:
        # One try: redis-py's default retries with backoff made each "is it down?" cost
        # about 3 s. This is the test's own probe; the product's cache client is untouched.
        try:
            client = redis.Redis(
                port=self.port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
            )
            return bool(client.ping())
        except redis.RedisError:
            return False
