"""End-to-end ingest benchmark: chat message in, "Saved: <title>" back.

    .venv/bin/python bench/ingest.py                       # SQLite in a temp dir
    .venv/bin/python bench/ingest.py --postgres            # a throw-away PostgreSQL database
    .venv/bin/python bench/ingest.py --messages 10000 --users 100 --latency-rate 50 --latency-seconds 20

Starts its own Prosody (devstack.prosody.LocalProsody, loopback), a page
server on loopback, a Celery worker and the gateway (``manage.py
run_imgateway``) as processes, with Redis keys under a prefix of their own.
Simulated users are slixmpp clients in this process. Three runs:

1. baseline: a trivial echo bot (a separate process, same Prosody): the
   same clients send it messages; latency from send to echo;
2. throughput: ``--messages`` chat messages, one new URL each, offered as
   fast as the clients can send; URLs per second from the first send to the
   last confirmation, then the gateway's resident memory;
3. latency: ``--latency-rate`` messages per second for ``--latency-seconds``;
   p50/p95/p99 from send to the "Saved:" reply.

The gateway's per-JID rate limit is raised for the run (this measures the
pipeline, not the abuse limit). Targets (issue 4): >= 300 URLs/s, p95 <= 500
ms at 50 messages/s, gateway memory < 100 MB after 10,000 messages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scratchdb import PG_ADMIN_URL, delete_redis_keys, scratch_postgres

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable

from devstack.processes import stop_process  # noqa: E402 (needs ROOT on the path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_pages(port: int) -> None:
    """The page server (its own process, so its CPU is not the simulated users'): a title per path."""

    class Page(asyncio.Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:
            self.transport, self.buffer = transport, b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            if b"\r\n\r\n" not in self.buffer:
                return
            path = self.buffer.split(b" ", 2)[1].decode("ascii", "replace")
            body = f"<html><head><title>Page {path}</title></head><body>x</body></html>".encode()
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            self.transport.close()

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Page, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    asyncio.run(main())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_times() -> tuple[float, float]:
    """(busy, idle) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return float(sum(fields[:8]) - idle), float(idle)


def redis_pid() -> int | None:
    import redis

    with contextlib.suppress(Exception):
        return int(
            redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")).info("server")["process_id"]
        )
    return None


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process (other clients' backends included)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            text = stat.read_text()
            if text.split("(", 1)[1].startswith("postgres)"):
                fields = text.rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class CpuMeter:
    """CPU time each process spent between ``start()`` and ``report()``, per unit of work."""

    def __init__(self, pids: dict[str, int | None], postgres: bool = False) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid}
        self.postgres = postgres
        self.before: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        times = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        if self.postgres:
            times["postgres"] = postgres_cpu_seconds()
        return times

    def start(self) -> None:
        self.before = self._now()
        self.machine_before = machine_times()

    def report(self, units: int, what: str) -> None:
        spent = {name: seconds - self.before[name] for name, seconds in self._now().items()}
        parts = "  ".join(f"{name} {seconds * 1000 / max(units, 1):.2f}" for name, seconds in spent.items())
        total = sum(spent.values()) * 1000 / max(units, 1)
        print(f"  CPU ms per {what}: {parts}  (total {total:.2f})", flush=True)
        busy, idle = (after - before for after, before in zip(machine_times(), self.machine_before, strict=True))
        print(f"  machine busy {100 * busy / (busy + idle):.0f}% of {os.cpu_count()} CPUs (all processes)", flush=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the echo bot (baseline), run as its own process -------------------------


def run_echo_bot(jid: str, password: str, host: str, port: int) -> None:
    from slixmpp import ClientXMPP

    async def main() -> None:
        bot = ClientXMPP(jid, password)
        bot.enable_direct_tls = bot.enable_starttls = False
        bot.enable_plaintext = True
        bot.plugin["feature_mechanisms"].unencrypted_scram = True

        def on_message(msg) -> None:
            if msg["type"] in ("chat", "normal") and msg["body"]:
                bot.make_message(mto=msg["from"], mbody=msg["body"], mtype="chat").send()

        started = asyncio.get_running_loop().create_future()
        bot.add_event_handler("session_start", lambda _e: (bot.send_presence(), started.set_result(True)))
        bot.add_event_handler("message", on_message)
        bot.connect(host, port)
        print("echo online", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# -- simulated users ----------------------------------------------------------


class Users:
    """N slixmpp clients on one loop; records when each reply arrived."""

    def __init__(self, prosody, names: list[str], password: str) -> None:
        self.prosody, self.names, self.password = prosody, names, password
        self.clients: list = []
        self.arrived: dict[str, float] = {}
        self.replies = 0

    async def connect(self) -> None:
        from slixmpp import ClientXMPP

        async def one(name: str):
            client = ClientXMPP(f"{self.prosody.jid(name)}/bench", self.password)
            client.enable_direct_tls = client.enable_starttls = False
            client.enable_plaintext = True
            client.plugin["feature_mechanisms"].unencrypted_scram = True
            started = asyncio.get_running_loop().create_future()
            client.add_event_handler("session_start", lambda _e: started.done() or started.set_result(True))
            client.add_event_handler("message", self._on_message)
            client.connect(self.prosody.host, self.prosody.port)
            await asyncio.wait_for(started, 30)
            client.send_presence()
            return client

        self.clients = list(await asyncio.gather(*(one(name) for name in self.names)))

    def _on_message(self, msg) -> None:
        body = msg["body"] or ""
        key = body.rsplit("\n", 1)[-1].strip() if body.startswith("Saved") else body.strip()
        if key and key not in self.arrived:
            self.arrived[key] = time.perf_counter()
            self.replies += 1

    async def offer(self, to: str, keys: list[str], rate: float | None) -> dict[str, float]:
        """Send one message per key (round-robin over users), at ``rate`` per second or flat out."""
        sent: dict[str, float] = {}
        start = time.perf_counter()
        for i, key in enumerate(keys):
            if rate:
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif i % 200 == 0:
                await asyncio.sleep(0)  # let the loop write
            client = self.clients[i % len(self.clients)]
            sent[key] = time.perf_counter()
            client.make_message(mto=to, mbody=key, mtype="chat").send()
        return sent

    async def wait(self, keys: list[str], timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and any(k not in self.arrived for k in keys):
            await asyncio.sleep(0.05)

    def report(self, label: str, keys: list[str], sent: dict[str, float]) -> dict[str, float]:
        done = [k for k in keys if k in self.arrived]
        latencies = [(self.arrived[k] - sent[k]) * 1000 for k in done]
        span = max(self.arrived[k] for k in done) - min(sent.values()) if done else float("nan")
        result = {
            "sent": len(keys),
            "answered": len(done),
            "per_s": len(done) / span if done else 0.0,
            "p50": percentile(latencies, 50) if done else float("nan"),
            "p95": percentile(latencies, 95) if done else float("nan"),
            "p99": percentile(latencies, 99) if done else float("nan"),
        }
        print(
            f"{label:<28} sent {result['sent']:>6}  answered {result['answered']:>6}  "
            f"{result['per_s']:8.1f}/s  p50 {result['p50']:7.1f} ms  p95 {result['p95']:7.1f} ms  "
            f"p99 {result['p99']:7.1f} ms",
            flush=True,
        )
        return result


# -- orchestration ------------------------------------------------------------


def fill_existing(users: list, count: int, prosody) -> None:
    """A site in use: ``count`` bookmarks saved from chat earlier, spread over the users, confirmed and
    analyzed, before any process starts.

    On a new, empty PostgreSQL database each connection plans its foreign-key
    checks while the tables are empty and scans them sequentially until
    autovacuum analyzes them (docs/PERFORMANCE.md, ingest): a first minute
    no site in use has.
    """
    from django.db import connection
    from django.utils import timezone

    from bookmarks import services
    from bookmarks.interchange.entries import BookmarkEntry
    from bookmarks.models import Bookmark
    from imgateway.models import ChatSave, ChatSaveItem

    per_user = max(1, count // len(users))
    now = timezone.now()
    for user in users:
        urls = [f"https://existing.example/{user.username}/{i}" for i in range(per_user)]
        services.import_bookmarks(user, [BookmarkEntry(url=url, title=url) for url in urls])
        jid = prosody.jid(user.username)
        saves = ChatSave.objects.bulk_create(
            [
                ChatSave(user=user, jid=jid, bare_jid=jid, message_id=f"old{i}", queued_at=now, sent_at=now)
                for i in range(per_user)
            ]
        )
        marks = dict(Bookmark.objects.filter(owner=user).values_list("url", "id"))
        ChatSaveItem.objects.bulk_create(
            [
                ChatSaveItem(chat_save=save, bookmark_id=marks.get(url), url=url)
                for save, url in zip(saves, urls, strict=True)
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--latency-rate", type=float, default=50.0)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    # Defaults: what ships (the Procfile's worker line, WORKER_PROCESSES of it).
    parser.add_argument("--workers", type=int, default=16, help="Celery worker threads per process")
    parser.add_argument(
        "--worker-processes", type=int, default=2, help="Celery worker processes, each with --workers threads"
    )
    parser.add_argument(
        "--existing", type=int, default=0, help="bookmarks (saved from chat) the users have before the run"
    )
    parser.add_argument("--postgres", action="store_true", help=f"use a throw-away database on {PG_ADMIN_URL}'s server")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--echo-bot", nargs=4, metavar=("JID", "PASSWORD", "HOST", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_bot:
        jid, password, host, port = args.echo_bot
        run_echo_bot(jid, password, host, int(port))
        return
    if args.serve:
        serve_pages(args.serve)
        return

    tmp = Path(tempfile.mkdtemp(prefix="favsite-bench-"))
    tag = f"favsite-bench-{os.getpid()}"
    databases = contextlib.ExitStack()
    if args.postgres:
        database_url = databases.enter_context(scratch_postgres("favsite_bench_ingest"))
        if database_url is None:
            raise SystemExit(f"PostgreSQL does not answer at {PG_ADMIN_URL}")
    else:
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="favsite.settings",
        DATABASE_URL=database_url,
        CELERY_KEY_PREFIX=f"{tag}:",
        XMPP_REDIS_PREFIX=f"{tag}:im",
        FETCH_ALLOW_NETWORKS="127.0.0.1/32",
        LOG_LEVEL="WARNING",
        DEBUG="0",  # as deployed: DEBUG keeps every query of a connection in memory
        SECRET_KEY="bench-only",
        XMPP_RATE_BURST="1000000",
        XMPP_RATE_PER_MINUTE="1000000",
    )
    processes: list[subprocess.Popen] = []
    prosody = None
    try:
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
        import django

        django.setup()
        from django.contrib.auth import get_user_model

        from devstack.prosody import LocalProsody
        from imgateway.linking import link_verified

        prosody = LocalProsody(tmp / "prosody", free_port())
        prosody.write_config()
        prosody.register("bot", "bot-pw")
        prosody.register("echo", "echo-pw")
        names = [f"user{i}" for i in range(args.users)]
        users = []
        for name in names:
            prosody.register(name, "pw")
            user = get_user_model().objects.create_user(name, password=None)
            link_verified(user, prosody.jid(name))
            users.append(user)
        if args.existing:
            fill_existing(users, args.existing, prosody)
        prosody.start()

        page_port = free_port()
        pages = subprocess.Popen([PY, __file__, "--serve", str(page_port)], cwd=ROOT)
        processes.append(pages)
        page_base = f"http://127.0.0.1:{page_port}"

        env = {
            **os.environ,
            "XMPP_JID": prosody.jid("bot"),
            "XMPP_PASSWORD": "bot-pw",
            "XMPP_SERVER": prosody.address,
            "XMPP_TLS": "off",
        }
        log = open(tmp / "processes.log", "ab")  # noqa: SIM115
        worker_cmd = [PY, "-m", "celery", "-A", "favsite", "worker", "-Q", "fetch,celery", "-P", "threads"]
        workers = [
            subprocess.Popen(
                [*worker_cmd, "-c", str(args.workers), "-n", f"bench{number}@%h", "-l", "WARNING"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )  # fmt: skip
            for number in range(args.worker_processes)
        ]
        processes.extend(workers)
        gateway = subprocess.Popen(
            [PY, "manage.py", "run_imgateway"], cwd=ROOT, env={**env, "LOG_LEVEL": "INFO"}, stdout=log, stderr=log
        )
        processes.append(gateway)
        echo = subprocess.Popen(
            [PY, __file__, "--echo-bot", prosody.jid("echo"), "echo-pw", prosody.host, str(prosody.port)],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        processes.append(echo)
        deadline = time.monotonic() + 60
        while "online as" not in (tmp / "processes.log").read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise SystemExit(f"the gateway did not come online; see {tmp / 'processes.log'}")
            time.sleep(0.1)
        time.sleep(2)  # the worker and the echo bot

        print(f"ingest benchmark: {args.users} users, {os.cpu_count()} CPUs, database {database_url.split(':')[0]}")
        pids = {
            "gateway": gateway.pid,
            **{f"worker{number or ''}": worker.pid for number, worker in enumerate(workers)},
            "prosody": prosody.process.pid,
            "redis": redis_pid(),
            "pages": pages.pid,
            "users(bench)": os.getpid(),
        }
        asyncio.run(run(prosody, names, page_base, args, CpuMeter(pids, args.postgres), gateway.pid))
    finally:
        for process in processes:
            stop_process(process, 15)
        if prosody:
            prosody.stop()
        with contextlib.suppress(Exception):
            delete_redis_keys(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), tag)
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        databases.close()
    shutil.rmtree(tmp, ignore_errors=True)  # kept when the run failed: processes.log says why


def _stage_rates(marker: str) -> None:
    """Where the time went: rows saved by the gateway per second, fetches finished per second."""
    from django.db.models import Max, Min

    from bookmarks.models import Bookmark

    rows = Bookmark.objects.filter(url__contains=marker)
    span = rows.aggregate(a=Min("created_at"), b=Max("created_at"), c=Max("fetched_at"))
    count = rows.count()
    saved = (span["b"] - span["a"]).total_seconds() or float("nan")
    fetched = (span["c"] - span["a"]).total_seconds() if span["c"] else float("nan")
    print(f"  stages: gateway saved {count / saved:.1f} rows/s; fetched and recorded {count / fetched:.1f}/s")


async def run(prosody, names: list[str], page_base: str, args, cpu: CpuMeter, gateway_pid: int) -> None:
    users = Users(prosody, names, "pw")
    await users.connect()
    bot, echo = prosody.jid("bot"), prosody.jid("echo")
    n = args.messages
    print(f"gateway memory at start: {rss_mb(gateway_pid):.1f} MB RSS", flush=True)

    keys = [f"echo {i}" for i in range(min(n, 5000))]
    cpu.start()
    sent = await users.offer(echo, keys, rate=None)
    await users.wait(keys, 120)
    users.report("baseline echo, flat out", keys, sent)
    cpu.report(len(keys), "echo")

    keys = [f"{page_base}/t/{i}" for i in range(n)]
    cpu.start()
    sent = await users.offer(bot, keys, rate=None)
    await users.wait(keys, 600)
    users.report("gateway, flat out", keys, sent)
    cpu.report(n, "URL")
    await asyncio.to_thread(_stage_rates, "/t/")
    print(f"gateway memory after {n} messages: {rss_mb(gateway_pid):.1f} MB RSS", flush=True)

    count = int(args.latency_rate * args.latency_seconds)
    keys = [f"echo at rate {i}" for i in range(count)]
    sent = await users.offer(echo, keys, rate=args.latency_rate)
    await users.wait(keys, 60)
    users.report(f"baseline echo, {args.latency_rate:g} msg/s", keys, sent)

    keys = [f"{page_base}/r/{i}" for i in range(count)]
    sent = await users.offer(bot, keys, rate=args.latency_rate)
    await users.wait(keys, 120)
    users.report(f"gateway, {args.latency_rate:g} msg/s", keys, sent)


if __name__ == "__main__":
    main()
