"""Stopping ``make run`` (issue 20, bug 10): SIGINT or SIGTERM, to make or to its process group.

Each case starts the real stack through ``make run`` (its own var/, ports,
Redis, Prosody and SQLite file beside anything else running), notes every
process below make, signals make by PID or its group by id, and checks
that make ends without an error line and that none of those processes is
left. Leftovers are killed by PID at the end, so a failure leaves nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from devstack.processes import port_answers
from tests.conftest import free_port
from tests.fixtures.celery import wait_for

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("make") is None or shutil.which("prosody") is None, reason="needs make and prosody"
    ),
]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` now (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped has stopped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "(gone)"


def restore_default_signals() -> None:
    # A shell started in the background ignores SIGINT; a terminal or process manager does not.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


@pytest.fixture
def make_run(tmp_path):
    """``make run`` in its own session, up and serving; yields (make's Popen, its output file, web port)."""
    web_port = free_port()
    env = dict(
        os.environ,
        DEVSTACK_VAR=str(tmp_path / "var"),
        DEVSTACK_XMPP_PORT=str(free_port()),
        DEVSTACK_SMTP_PORT=str(free_port()),
        FAVSITE_PORT=str(web_port),
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BEAT_SCHEDULE_FILENAME=str(tmp_path / "celerybeat-schedule"),
        PYTHONUNBUFFERED="1",
    )
    for name in (
        "XMPP_JID",
        "XMPP_PASSWORD",
        "XMPP_SERVER",
        "EMAIL_URL",
        "CELERY_BROKER_URL",
        "MAKEFLAGS",
        "MAKELEVEL",
    ):
        env.pop(name, None)
    output = tmp_path / "make-run.log"
    with output.open("wb") as sink:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=restore_default_signals,
        )
    started: list[int] = []
    try:
        wait_for(lambda: port_answers("127.0.0.1", web_port), bool, timeout=120, interval=0.5)
        wait_for(output.read_text, lambda text: text.count(" ready.") >= 2 and "gateway.1" in text, timeout=60)
        started = descendants(make.pid)
        yield make, output, started
    finally:
        for pid in [make.pid, *started, *descendants(make.pid)]:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        make.wait(10)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("to_group", [False, True], ids=["to-make", "to-its-group"])
def test_a_signal_stops_make_run_quietly_with_every_child(make_run, signum, to_group):
    make, output, started = make_run
    names = " ".join(command_line(pid) for pid in started)
    for part in (
        "devstack",
        "prosody",
        "redis-server",
        "aiosmtpd",
        "honcho",
        "runserver",
        "worker",
        "beat",
        "run_imgateway",
    ):
        assert part in names
    (os.killpg if to_group else os.kill)(make.pid, signum)
    make.wait(60)
    left = wait_for(lambda: [pid for pid in started if running(pid)], lambda pids: not pids, timeout=30)
    assert left == []
    text = output.read_text()
    assert "make: ***" not in text, text[-2000:]
    assert "Traceback" not in text, text[-4000:]
