"""What the logs hold: no secret token in any line, from gunicorn's access log to Django's warnings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devstack.processes import stop_process
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "F00DFEEDSECRET0123456789"


@pytest.fixture
def gunicorn(tmp_path):
    """The Dockerfile's web command on a free loopback port; its output in a file; stopped by PID."""
    port = free_port()
    log = tmp_path / "web.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "0",
        "SECRET_KEY": "test-only",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_FORMAT": "json",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback; production sits behind a TLS proxy
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "favsite.wsgi", "--bind", f"127.0.0.1:{port}", "--access-logfile", "-"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        stop_process(process, 10)
        print(f"--- web log ---\n{read_log(log)[-3000:]}")


def get(url: str) -> int:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback, our own server)
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.1)  # still starting
    raise TimeoutError(url)


def read_log(log: Path) -> str:
    return log.read_text(errors="replace")


def test_feed_tokens_and_pinboard_auth_tokens_stay_out_of_the_logs(gunicorn):
    base, log = gunicorn
    assert get(f"{base}/feeds/{SECRET}/rss/") == 404
    assert get(f"{base}/api/v1/posts/all?auth_token=alice:{SECRET}&format=json") in (401, 403)
    time.sleep(0.5)
    text = log.read_text(errors="replace")
    assert "/feeds/[token]/rss/" in text and "auth_token=[redacted]" in text  # the requests were logged
    assert SECRET not in text
