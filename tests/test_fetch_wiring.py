"""The processes that run fetches are wired to the queue the task is routed to."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml
from django.conf import settings

from bookmarks import tasks
from favsite.celery import app

ROOT = Path(__file__).resolve().parent.parent


def _queues(args: list[str]) -> set[str]:
    for flag in ("-Q", "--queues"):
        if flag in args:
            return set(args[args.index(flag) + 1].split(","))
    return {"celery"}


def _procfile_worker() -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("worker:"):
            return shlex.split(line.split(":", 1)[1])
    raise AssertionError("no worker line in the Procfile")


def test_fetch_metadata_is_routed_to_the_fetch_queue():
    assert app.amqp.router.route({}, "bookmarks.tasks.fetch_metadata")["queue"].name == "fetch"


def test_the_procfile_worker_consumes_the_fetch_and_default_queues():
    assert _queues(_procfile_worker()) >= {"fetch", "celery"}


def test_the_compose_worker_consumes_the_fetch_and_default_queues():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert _queues(compose["services"]["worker"]["command"]) >= {"fetch", "celery"}


def test_the_workers_use_the_threads_pool_because_the_fetcher_keeps_its_own_deadline():
    args = _procfile_worker()
    assert args[args.index("--pool") + 1] == "threads"


def test_the_beat_sweep_runs_the_sweep_task():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-stale-fetches"]
    assert entry["task"] == tasks.sweep_stale_fetches.name


def test_the_beat_queues_fresh_saves_whose_task_may_be_lost_every_10_seconds():
    entry = settings.CELERY_BEAT_SCHEDULE["requeue-unsent-fetches"]
    assert (entry["task"], entry["schedule"]) == (tasks.requeue_unsent_fetches.name, 10.0)


def test_the_beat_schedule_file_lives_under_var():
    assert Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent == settings.BASE_DIR / "var"


def test_each_procfile_worker_process_gets_a_node_name_of_its_own():
    # make run starts several from this line; "$$" is the PID of the shell that runs each.
    args = _procfile_worker()
    assert "$$" in args[args.index("--hostname") + 1]
