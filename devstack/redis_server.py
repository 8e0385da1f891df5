"""A private ``redis-server`` for ``make run`` when nothing answers at ``REDIS_URL``."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from devstack.processes import StackError, ensure_debian_package, port_answers, stop_process, wait_for_port


@dataclass
class LocalRedis:
    """A private redis-server for development, data under ``directory``."""

    directory: Path
    port: int = 6379
    process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = ensure_debian_package("redis-server", "redis-server")
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory)]
        args += ["--appendonly", "yes", "--save", "", "--daemonize", "no", "--logfile", "redis.log"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for_port("127.0.0.1", self.port, self.process, "redis-server")

    def stop(self) -> None:
        stop_process(self.process)


def ensure_redis(redis_url: str, directory: Path) -> LocalRedis | None:
    """Start a private Redis when ``redis_url`` points at this machine and nothing answers."""
    parts = urlsplit(redis_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if port_answers(host, port):
        return None
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise StackError(f"Redis does not answer at {host}:{port} (REDIS_URL); start it or change REDIS_URL")
    redis = LocalRedis(directory, port)
    redis.start()
    return redis
