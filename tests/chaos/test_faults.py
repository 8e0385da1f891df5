"""A bookmark sent is a bookmark kept, whatever crashes, and confirmed once, with default timings.

Several people send links through a real Prosody to the real gateway process,
with a real worker and a real beat, while the test SIGKILLs the worker
(twice), stops Redis and wipes its data while people keep sending (the
gateway saves their links with no broker to queue their fetches), restarts
Prosody, and SIGKILLs the gateway while it holds links it received and had
not saved (their saves wait on a database lock the test holds), then
restarts it. Nothing is run by hand: the beat's own tasks recover lost
fetches and confirmations, with the default timings (only the network policy
and the chat rate limits are set, so that local pages and a flood are
allowed). It checks: a link saved while the broker was down has its title
and its confirmation within 60 s of the broker coming back; every link sent
is one bookmark with its page title, none is pending, every sender got one
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
from pathlib import Path
from urllib.parse import urlsplit

import pytest

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


WORKER = ["worker", "-Q", "fetch,celery", "--pool", "threads", "--concurrency", "4", "--without-heartbeat"]
BROKER_BACK_WITHIN = 60.0  # seconds from the broker back to the titles and confirmations it held up


class Celery:
    """``celery -A favsite <args>`` (the Procfile's worker or beat) as a child process, to SIGKILL."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path):
        self.args, self.env, self.log_path, self.process = args, env, log_path, None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child keeps its copy)
        command = [sys.executable, "-m", "celery", "-A", "favsite", *self.args, "--loglevel", "INFO"]
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


@pytest.mark.timeout(300 * SLACK)
def test_every_link_sent_is_kept_once_with_its_title_through_crashes_and_restarts(
    prosody, chat_user, page_server, private_redis, tmp_path
):
    redis_url = f"redis://127.0.0.1:{private_redis.port}/0"
    env = gateway_env(
        prosody,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        FETCH_ALLOW_NETWORKS="127.0.0.1/32",
        XMPP_RATE_BURST="10000",
        XMPP_RATE_PER_MINUTE="10000",
        CELERY_BEAT_SCHEDULE_FILENAME=str(tmp_path / "celerybeat-schedule"),
    )
    worker = Celery(WORKER, env, tmp_path / "worker.log")
    beat = Celery(["beat"], env, tmp_path / "beat.log")
    gateway = Gateway(prosody, tmp_path / "gateway.log", env)
    people = [chat_user(resource="chaos") for _ in range(PEOPLE)]
    owners = {}
    for person in people:
        owners[person.jid] = make_user(person.user)
        link_verified(owners[person.jid], person.jid)
        person.keep_archive()  # confirmations are counted from each person's archive
    sent: dict[str, tuple[str, str]] = {}  # url -> (jid, title)
    faults: list[str] = []

    def send_batch(name: str, hang: float = 0.0, receipt: bool = False, slow: int = PER_BATCH) -> set[str]:
        """Each person sends PER_BATCH links; the first ``slow`` of each person's pages answer after ``hang`` s."""
        ids = set()
        for index in range(PER_BATCH):
            for person in people:
                title = f"{name} {index} for {person.user}"
                delay = hang if index < slow else 0.0
                url = page_server.route(f"/{name}/{person.user}/{index}", body=f"<title>{title}</title>", hang=delay)
                ids.add(person.send(gateway.jid, url, receipt=receipt))
                sent[url] = (person.jid, title)
        return ids

    def saved_count() -> int:
        return Bookmark.objects.filter(url__in=list(sent)).count()

    def missing() -> list[str]:
        return sorted(set(sent) - set(Bookmark.objects.filter(url__in=list(sent)).values_list("url", flat=True)))

    def bodies_of(jid: str) -> list[str]:
        """What the bot said to this person, from their archive: what a client syncing its history
        shows, whichever session was connected (the test's clients come and go with the faults)."""
        return next(p for p in people if p.jid == jid).archived_bodies(gateway.jid)

    def confirmations(urls: list[str]) -> dict[str, int]:
        bodies = {person.jid: bodies_of(person.jid) for person in people}
        return {url: sum(b.startswith("Saved") and url in b for b in bodies[sent[url][0]]) for url in urls}

    def titled_and_confirmed(urls: list[str]) -> dict[str, str]:
        """What each of ``urls`` still waits for: its title, its confirmation, or nothing (left out)."""
        rows = {row.url: row for row in Bookmark.objects.filter(url__in=urls)}
        counts = confirmations(urls)
        waiting = {url: "its title" for url in urls if url not in rows}
        for url, row in rows.items():
            if row.page_title != sent[url][1]:
                touched = (row.updated_at - row.created_at).total_seconds()
                waiting[url] = f"its title ({row.status}, {row.fetch_attempts} tries, touched at +{touched:.0f} s)"
        for url in urls:
            if url not in waiting and not counts[url]:
                saves = ChatSave.objects.filter(items__url=url).values("sent_at", "queued_at", "held_at")
                waiting[url] = f"its confirmation ({list(saves)})"
        return waiting

    try:
        worker.start()
        beat.start()
        gateway.start()

        # 1. the worker dies with fetches in flight
        send_batch("one", hang=1.0)
        wait_for(saved_count, lambda n: n >= len(sent) // 2, timeout=30 * SLACK)
        worker.kill()
        faults.append("worker SIGKILL")
        worker.start()

        # 2. Redis goes away with fetches queued, and comes back with nothing: queued fetches
        # and confirmations are gone. People keep sending meanwhile: those links are saved with
        # no broker to queue their fetches on.
        before = set(sent)
        send_batch("two", hang=2.0, slow=1)  # one slow page each: fetches under way when Redis goes
        two = sorted(set(sent) - before)
        paths = {urlsplit(url).path for url in two}
        wait_for(lambda: paths & set(page_server.requests), bool, timeout=30 * SLACK)  # fetches under way
        private_redis.stop()
        shutil.rmtree(private_redis.directory)
        before = set(sent)
        send_batch("down")
        during = sorted(set(sent) - before)
        wait_for(saved_count, lambda n: n == len(sent), timeout=30 * SLACK)
        # The fetches the worker had taken end meanwhile: their confirmations cannot be announced.
        ended = Bookmark.objects.filter(url__in=two).exclude(status=Bookmark.Status.PENDING)
        wait_for(ended.count, lambda n: n > 0, timeout=30 * SLACK)
        private_redis.start()
        back = time.monotonic()
        faults.append(f"Redis down, data wiped, {len(during)} links saved meanwhile")
        # Every link so far, those whose confirmations Redis lost and those saved while it was down
        wait_for(
            lambda: titled_and_confirmed(list(sent)), lambda left: not left, timeout=BROKER_BACK_WITHIN, interval=0.5
        )
        recovered = round(time.monotonic() - back, 1)

        # 3. Prosody restarts: everyone (the bot too) reconnects
        send_batch("three")
        wait_for(saved_count, lambda n: n == len(sent), timeout=30 * SLACK)
        for person in people:
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

        # Nothing by hand from here: the beat queues lost fetches again and names lost confirmations.
        wait_for(lambda: titled_and_confirmed(list(sent)), lambda left: not left, timeout=120 * SLACK, interval=0.5)
        # Time for a second confirmation to show, if one were coming: past the resend delay and a beat tick.
        time.sleep(RESEND_AFTER.total_seconds() + 15)
        counts = confirmations(list(sent))
        rows = list(Bookmark.objects.filter(url__in=list(sent)))

        assert len(rows) == len(sent), "a link was lost or saved twice"
        for row in rows:
            jid, title = sent[row.url]
            assert row.owner == owners[jid]
            assert row.status == Bookmark.Status.OK, (row.url, row.status, row.fetch_error)
            assert row.page_title == title
        twice = sum(count > 1 for count in counts.values())
        bodies = [body for person in people for body in bodies_of(person.jid)]
        figures = {
            "people": PEOPLE,
            "urls_sent": len(sent),
            "kept": len(rows),
            "duplicated": len(rows) - len(set(row.url for row in rows)),
            "confirmed": sum(count >= 1 for count in counts.values()),
            "confirmed_twice": twice,
            "answered_already_saved": sum("Already saved" in body for body in bodies),
            "faults": faults,
            "titled_and_confirmed_after_broker_back_s": recovered,
        }
        print(f"chaos figures: {figures}")
        assert gateway.process.poll() is None
        assert not any("Already saved" in body for body in bodies), "a link was handled twice"
        assert twice == 0, "a link was confirmed twice"
    finally:
        gateway.stop()
        beat.stop()
        worker.stop()
        for person in people:
            person.disconnect()
        print(f"--- gateway log ---\n{gateway.log()[-3000:]}")
        for name in ("worker", "beat"):
            if (tmp_path / f"{name}.log").exists():
                print(f"--- {name} log ---\n{(tmp_path / f'{name}.log').read_text(errors='replace')[-3000:]}")
