"""Child processes and ports: what the local services and ``make run`` share."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

# make's own fatal signals: while it handles one it has it blocked (Linux /proc/PID/status, SigBlk).
_FATAL_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)


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


def watch_parent_make(interval: float = 0.2) -> None:
    """Stop (as on SIGINT) when the ``make`` that started us is stopping or gone.

    GNU make passes a SIGTERM on to its children but not a SIGINT: sent to
    make's process alone (as a process manager or a terminal multiplexer
    does), it makes make wait for its children, which never learn of it.
    make handles the signal with it blocked, and Linux shows the blocked
    set in /proc, so a thread looks there a few times a second. Without
    /proc, or under another parent, nothing is watched.
    """
    parent = os.getppid()
    if _command_name(parent) not in ("make", "gmake"):
        return

    def watch() -> None:
        while os.getppid() == parent and not _handling_fatal_signal(parent):
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="watch-make", daemon=True).start()


def _command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _handling_fatal_signal(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # gone
    for line in status.splitlines():
        if line.startswith("SigBlk:"):
            blocked = int(line.split()[1], 16)
            return any(blocked & (1 << (signum - 1)) for signum in _FATAL_SIGNALS)
    return False
