"""What every page and make run's terminal show besides the pages (issue 20, bug 8)."""

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_site_has_a_favicon(client: Client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200
    assert answer["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(answer.streaming_content)[:4] == b"\0\0\1\0"  # an ICO file


def server_line_shown(request_line: str, status: int) -> bool:
    """Whether the configured runserver log passes a request line as runserver logs it."""
    logger = logging.getLogger("django.server")
    record = logger.makeRecord(
        logger.name,
        logging.INFO,
        __file__,
        0,
        '"%s" %s %s',
        (request_line, str(status), "35"),
        None,
        extra={"status_code": status},
    )
    handlers = logger.handlers or logging.getLogger().handlers
    return logger.filter(record) and all(handler.filter(record) for handler in handlers)


def test_make_runs_terminal_leaves_out_the_list_pages_live_polls():
    assert not server_line_shown("GET /bookmarks/live/?since=2026-12-06T05%3A00%3A00 HTTP/1.1", 200)


def test_a_failing_live_poll_is_still_logged():
    assert server_line_shown("GET /bookmarks/live/?since=x HTTP/1.1", 500)


def test_other_requests_are_still_logged():
    assert server_line_shown("GET /bookmarks/ HTTP/1.1", 200)


def celery_line_shown(message: str, level: int = logging.INFO) -> bool:
    """Whether a worker's or beat's log handler, set up as Celery sets it up, passes this line."""
    from celery import signals

    logger = logging.getLogger("test.celery-setup")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        signals.after_setup_logger.send(
            sender=None, logger=logger, loglevel=level, logfile=None, format="", colorize=False
        )
        record = logger.makeRecord("celery.app.trace", level, __file__, 0, message, (), None)
        return handler.filter(record)
    finally:
        logger.removeHandler(handler)


def test_make_runs_terminal_leaves_out_the_beats_routine_tasks():
    assert not celery_line_shown("Task bookmarks.tasks.requeue_unsent_fetches[5bcd] succeeded in 0.002s: 0")
    assert not celery_line_shown(
        "Scheduler: Sending due task resend-confirmations (imgateway.tasks.resend_confirmations)"
    )


def test_a_fetch_and_a_failing_routine_task_are_still_logged():
    assert celery_line_shown("Task bookmarks.tasks.fetch_metadata[5bcd] succeeded in 0.2s: 'ok'")
    assert celery_line_shown(
        "Task bookmarks.tasks.requeue_unsent_fetches[5bcd] raised: OperationalError", logging.ERROR
    )
