"""GET /healthz against the real database and Redis."""

import subprocess
import sys

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_healthz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")
    assert response.json()["checks"]["database"] == "ok"


def test_processes_a_test_starts_reach_the_test_database(db):
    """Tests that start the worker or the gateway hand them this URL."""
    from django.db import connection

    from tests.conftest import live_database_url

    code = "import dj_database_url, sys; print(dj_database_url.parse(sys.argv[1])['NAME'])"
    out = subprocess.run([sys.executable, "-c", code, live_database_url()], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == connection.settings_dict["NAME"]
