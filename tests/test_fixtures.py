"""The shared service fixtures do what their docstrings promise."""

import urllib.request

import pytest

from favsite.celery import app
from tests.fixtures.celery import CELERY_KEY_PREFIX


def _get(url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_page_server_serves_a_programmed_route(page_server):
    url = page_server.route("/hello", body="<title>Hi</title>")
    assert _get(url) == (200, b"<title>Hi</title>")
    assert page_server.requests == ["/hello"]


def test_page_server_answers_404_for_unknown_paths(page_server):
    assert _get(page_server.url("/nothing"))[0] == 404


def test_page_server_is_allowed_for_the_fetcher_during_the_test(page_server, settings):
    assert page_server.network in settings.FETCH_ALLOW_NETWORKS


def test_celery_broker_keys_carry_this_runs_prefix():
    assert app.conf.broker_transport_options["global_keyprefix"] == CELERY_KEY_PREFIX


@pytest.mark.django_db(transaction=True)
def test_celery_worker_starts_and_consumes_the_fetch_queue(celery_worker):
    queues = {queue.name for queue in celery_worker.consumer.task_consumer.queues}
    assert {"fetch", "celery"} <= queues
