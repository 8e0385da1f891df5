"""How long a chat user waits when the primary gateway dies and the standby takes over (issue 21: 10 s).

    .venv/bin/python bench/standby.py [--rounds 5]

Starts its own Prosody on loopback, a SQLite database in a temp dir and two
``manage.py run_imgateway`` processes on one bot account: the primary
(priority 10) and the standby (``XMPP_RESOURCE=standby``, priority 5). A
slixmpp user sends ``help``. Each round:

1. baseline: the round trip of ``help`` answered by the primary;
2. takeover: the primary is SIGKILLed, ``help`` is sent at once, and the
   time until the standby's answer arrives is measured; then the primary is
   started again and, once it answers, the next round begins.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable

from devstack.processes import kill_process, stop_process  # noqa: E402 (needs ROOT on the path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Person:
    """A slixmpp user who times the bot's answers."""

    def __init__(self, jid: str, password: str, address: tuple[str, int]) -> None:
        from slixmpp import ClientXMPP

        self.client = ClientXMPP(f"{jid}/bench", password)
        self.client.enable_direct_tls = self.client.enable_starttls = False
        self.client.enable_plaintext = True
        self.client.plugin["feature_mechanisms"].unencrypted_scram = True
        self.address = address
        self.answers: asyncio.Queue = asyncio.Queue()
        self.client.add_event_handler("message", lambda msg: self.answers.put_nowait(str(msg["from"].resource)))

    async def connect(self) -> None:
        started = asyncio.Event()
        self.client.add_event_handler("session_start", lambda _e: started.set())
        self.client.connect(*self.address)
        await asyncio.wait_for(started.wait(), 15)
        self.client.send_presence()

    async def ask(self, bot: str, timeout: float = 60.0) -> tuple[float, str]:
        """Seconds from sending ``help`` to the first answer, and the resource that answered."""
        while not self.answers.empty():
            self.answers.get_nowait()
        began = time.perf_counter()
        self.client.make_message(mto=bot, mbody="help", mtype="chat").send()
        resource = await asyncio.wait_for(self.answers.get(), timeout)
        return time.perf_counter() - began, resource


def start_gateway(env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([PY, "manage.py", "run_imgateway"], cwd=ROOT, env=env, stdout=out, stderr=out)


async def wait_online(log: Path, count: int) -> None:
    while log.read_text(errors="replace").count("online as") < count:
        await asyncio.sleep(0.05)


async def rounds(person: Person, bot: str, envs: dict[str, dict], tmp: Path, count: int) -> None:
    primary_log, standby_log = tmp / "primary.log", tmp / "standby.log"
    primary = start_gateway(envs["primary"], primary_log)
    standby = start_gateway(envs["standby"], standby_log)
    starts = 1
    try:
        await wait_online(primary_log, 1)
        await wait_online(standby_log, 1)
        await asyncio.sleep(1.0)  # the gateways see each other's presence
        baseline, takeover = [], []
        for number in range(count):
            seconds, resource = await person.ask(bot)
            assert resource == "favsite", f"the primary should answer, not {resource}"
            baseline.append(seconds)
            kill_process(primary)
            seconds, resource = await person.ask(bot)
            assert resource == "standby", f"the standby should answer, not {resource}"
            takeover.append(seconds)
            print(f"round {number + 1}: primary {baseline[-1] * 1000:.0f} ms, standby after kill {seconds:.2f} s")
            primary = start_gateway(envs["primary"], primary_log)
            starts += 1
            await wait_online(primary_log, starts)
            await asyncio.sleep(1.5)
        print(f"baseline (primary answers): median {statistics.median(baseline) * 1000:.0f} ms")
        median, worst = statistics.median(takeover), max(takeover)
        print(f"takeover (kill -> standby answers): median {median:.2f} s, max {worst:.2f} s")
    finally:
        stop_process(primary, 10)
        stop_process(standby, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="favsite-bench-standby-"))
    tag = f"favsite-bench-{os.getpid()}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="favsite.settings",
        DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
        CELERY_KEY_PREFIX=f"{tag}:",
        XMPP_REDIS_PREFIX=f"{tag}:im",
        LOG_LEVEL="INFO",
        DEBUG="0",
        SECRET_KEY="bench-only",
    )
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from devstack.prosody import LocalProsody
    from imgateway.linking import link_verified

    prosody = LocalProsody(tmp / "prosody", free_port())
    prosody.write_config()
    prosody.register("bot", "bot-pw")
    prosody.register("alice", "pw")
    link_verified(get_user_model().objects.create_user("alice", password=None), prosody.jid("alice"))
    prosody.start()
    try:
        base = {
            **os.environ,
            "XMPP_JID": prosody.jid("bot"),
            "XMPP_PASSWORD": "bot-pw",
            "XMPP_SERVER": prosody.address,
            "XMPP_TLS": "off",
        }
        envs = {"primary": base, "standby": {**base, "XMPP_RESOURCE": "standby", "XMPP_PRIORITY": "5"}}
        host, port = prosody.address.rsplit(":", 1)

        async def run() -> None:
            person = Person(prosody.jid("alice"), "pw", (host, int(port)))
            await person.connect()
            await rounds(person, prosody.jid("bot"), envs, tmp, args.rounds)

        asyncio.run(run())
    finally:
        prosody.stop()
    print(f"logs in {tmp}")


if __name__ == "__main__":
    main()
