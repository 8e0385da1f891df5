"""Child processes and ports: what the local services and ``make run`` share."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


class StackError(RuntimeError):
    """Something ``make run`` cannot fix by itself; the message says what to do."""


def wait_for_port(host: str, port: int, process: subprocess.Popen, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{what} exited with code {process.returncode} before it listened on {host}:{port}")
        if port_answers(host, port):
            return
        time.sleep(0.1)
    raise StackError(f"{what} did not listen on {host}:{port} within {timeout:.0f} s")


def ensure_debian_package(binary: str, package: str) -> str:
    """The path of ``binary``, installing ``package`` with apt-get when allowed."""
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StackError(f"{binary} is missing: install it with `sudo apt-get install {package}`")
    print(f"== installing {package} (apt-get)", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package], check=True, env=env)
    path = shutil.which(binary)
    if not path:
        raise StackError(f"installed {package} but {binary} is still not on the PATH")
    return path


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """Stop a child we started, by its PID: SIGTERM, then SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        kill_process(process, timeout)


def kill_process(process: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGKILL a child we started, as a crash would, and reap it."""
    if process is None or process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout)
