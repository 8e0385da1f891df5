"""A bookmark sent is a bookmark kept, whatever crashes.

Several people send links through a real Prosody to the real gateway process
while the test SIGKILLs the worker (twice), restarts a private Redis with its
data wiped, restarts Prosody, and SIGKILLs the gateway while it holds links it
received and had not saved (their saves wait on a database lock the test
holds), then restarts it. Then it
runs the beat's sweeps once by hand and checks: every link sent is one
bookmark with its page title, none is pending, every sender got a
confirmation for each link, and none twice.

The CI version is short; ``FAVSITE_CHAOS_LONG=1`` sends many more links.
Redis here is a private ``redis-server`` on a free port (never the shared
one: its data is wiped on purpose).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bookmarks.models import Bookmark
from devstack.processes import kill_process, stop_process
from devstack.redis_server import LocalRedis
from imgateway.confirmations import RESEND_AFTER
from imgateway.linking import link_verified
from imgateway.models import ChatSave
from tests.conftest import bookmark_writes_blocked, free_port, make_user
from tests.fixtures.celery import wait_for
from tests.fixtures.prosody import Gateway, gateway_env

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
LONG = os.environ.get("FAVSITE_CHAOS_LONG") == "1"
PEOPLE = 8 if LONG else 3
PER_BATCH = 10 if LONG else 2  # links per person per batch; six batches
SLACK = 6 if LONG else 1  # waits grow with the number of links


class Worker:
    """``celery -A favsite worker`` as a child process (the Procfile line), to SIGKILL."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env, self.log_path, self.process = env, log_path, None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child keeps its copy)
        command = [sys.executable, "-m", "celery", "-A", "favsite", "worker", "-Q", "fetch,celery"]
        command += ["--pool", "threads", "--concurrency", "4", "--loglevel", "INFO", "--without-heartbeat"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill(self) -> None:
        kill_process(self.process)

    def stop(self) -> None:
        stop_process(self.process, 15)


@pytest.fixture
def private_redis(tmp_path):
    server = LocalRedis(tmp_path / "redis", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_sweeps(env: dict[str, str]) -> None:
    """What beat runs every minute, once, now (pending rows count as stale at once)."""
    code = (
        "import django; django.setup()\n"
        "from bookmarks.tasks import sweep_stale_fetches\n"
        "from imgateway.tasks import resend_confirmations\n"
        "print(sweep_stale_fetches(), resend_confirmations())\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "FETCH_STALE_AFTER": "1", "DJANGO_SETTINGS_MODULE": "favsite.settings"},
        check=True,
        timeout=60,
    )


def test_every_link_sent_is_kept_once_with_its_title_through_crashes_and_restarts(
    prosody, chat_user, page_server, private_redis, tmp_path
):
    redis_url = f"redis://127.0.0.1:{private_redis.port}/0"
    env = gateway_env(
        prosody,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        FETCH_ALLOW_NETWORKS="127.0.0.1/32",
        FETCH_TIMEOUT="5",
        FETCH_RETRY_DELAY="0.5",
        CELERY_VISIBILITY_TIMEOUT="20",
        XMPP_RATE_BURST="10000",
        XMPP_RATE_PER_MINUTE="10000",
    )
    worker = Worker(env, tmp_path / "worker.log")
    gateway = Gateway(prosody, tmp_path / "gateway.log", env)
    people = [chat_user(resource="chaos") for _ in range(PEOPLE)]
    owners = {}
    for person in people:
        owners[person.jid] = make_user(person.user)
        link_verified(owners[person.jid], person.jid)
    sent: dict[str, tuple[str, str]] = {}  # url -> (jid, title)
    received: dict[str, list[str]] = {person.jid: [] for person in people}
    faults: list[str] = []

    def send_batch(name: str, hang: float = 0.0, receipt: bool = False) -> set[str]:
        ids = set()
        for index in range(PER_BATCH):
            for person in people:
                title = f"{name} {index} for {person.user}"
                url = page_server.route(f"/{name}/{person.user}/{index}", body=f"<title>{title}</title>", hang=hang)
                ids.add(person.send(gateway.jid, url, receipt=receipt))
                sent[url] = (person.jid, title)
        return ids

    def saved_count() -> int:
        return Bookmark.objects.filter(url__in=list(sent)).count()

    def missing() -> list[str]:
        return sorted(set(sent) - set(Bookmark.objects.filter(url__in=list(sent)).values_list("url", flat=True)))

    try:
        worker.start()
        gateway.start()

        # 1. the worker dies with fetches in flight
        send_batch("one", hang=1.0)
        wait_for(saved_count, lambda n: n >= len(sent) // 2, timeout=30 * SLACK)
        worker.kill()
        faults.append("worker SIGKILL")
        worker.start()

        # 2. Redis restarts with nothing: queued fetches and confirmations are gone
        send_batch("two", hang=0.5)
        wait_for(saved_count, lambda n: n == len(sent), timeout=30 * SLACK)
        private_redis.stop()
        shutil.rmtree(private_redis.directory)
        private_redis.start()
        faults.append("Redis restart, data wiped")

        # 3. Prosody restarts: everyone (the bot too) reconnects
        send_batch("three")
        wait_for(saved_count, lambda n: n == len(sent), timeout=30 * SLACK)
        for person in people:
            received[person.jid] += person.bodies()
            person.disconnect()
        gateway.expect_reconnect()
        prosody.restart()
        faults.append("Prosody restart")
        gateway.wait_online(60)
        again = []
        for person in people:
            fresh = chat_user(resource="chaos", connect=False)
            fresh.user, fresh.jid = person.user, person.jid
            again.append(fresh.connect())
        people[:] = again

        # 4. the gateway dies with links received and not saved: their saves wait on a
        # lock the test holds, and a receipt (XEP-0184, sent on arrival) says the gateway
        # has each of them. After the restart it catches up from the server's archive.
        def receipted(ids: set[str]) -> int:
            return sum(m.receipt in ids for person in people for m in list(person.messages))

        with bookmark_writes_blocked():
            ids = send_batch("four", receipt=True)
            wait_for(lambda: receipted(ids), lambda n: n == len(ids), timeout=30 * SLACK)
            in_flight = len(missing())
            gateway.kill()
        faults.append(f"gateway SIGKILL with {in_flight} links received and not saved")
        send_batch("five")
        gateway.start()

        # 5. the worker dies a second time
        send_batch("six", hang=1.0)
        wait_for(missing, lambda urls: not urls, timeout=60 * SLACK)
        worker.kill()
        faults.append("worker SIGKILL")
        worker.start()

        # The beat's sweeps, once: lost fetches are queued again, lost confirmations resent.
        time.sleep(1.2)  # FETCH_STALE_AFTER=1 for the sweep below
        # As if the resend delay had passed for confirmations named on the wiped Redis.
        ChatSave.objects.filter(sent_at__isnull=True).update(
            created_at=timezone.now() - RESEND_AFTER - timedelta(seconds=1)
        )
        run_sweeps(env)
        rows = wait_for(
            lambda: list(Bookmark.objects.filter(url__in=list(sent))),
            lambda rows: rows and all(row.status != Bookmark.Status.PENDING for row in rows),
            timeout=60 * SLACK,
        )
        run_sweeps(env)  # confirmations of the fetches the first sweep queued

        def confirmations() -> dict[str, int]:
            bodies = {jid: received[jid] + next(p for p in people if p.jid == jid).bodies() for jid in received}
            return {url: sum(b.startswith("Saved") and url in b for b in bodies[jid]) for url, (jid, _) in sent.items()}

        counts = wait_for(confirmations, lambda c: all(c.values()), timeout=60 * SLACK)
        time.sleep(1.0)
        counts = confirmations()

        assert len(rows) == len(sent), "a link was lost or saved twice"
        for row in rows:
            jid, title = sent[row.url]
            assert row.owner == owners[jid]
            assert row.status == Bookmark.Status.OK, (row.url, row.status, row.fetch_error)
            assert row.page_title == title
        twice = sum(count > 1 for count in counts.values())
        bodies = [body for jid in received for body in received[jid] + next(p for p in people if p.jid == jid).bodies()]
        figures = {
            "people": PEOPLE,
            "urls_sent": len(sent),
            "kept": len(rows),
            "duplicated": len(rows) - len(set(row.url for row in rows)),
            "confirmed": sum(count >= 1 for count in counts.values()),
            "confirmed_twice": twice,
            "answered_already_saved": sum("Already saved" in body for body in bodies),
            "faults": faults,
        }
        print(f"chaos figures: {figures}")
        assert gateway.process.poll() is None
        assert not any("Already saved" in body for body in bodies), "a link was handled twice"
        assert twice == 0, "a link was confirmed twice"
    finally:
        gateway.stop()
        worker.stop()
        for person in people:
            person.disconnect()
        print(f"--- gateway log ---\n{gateway.log()[-3000:]}")
        if (tmp_path / "worker.log").exists():
            print(f"--- worker log ---\n{(tmp_path / 'worker.log').read_text(errors='replace')[-3000:]}")
