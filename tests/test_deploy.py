"""The deployment files agree with the code: docker-compose, Procfile, production settings.

Docker does not run on the test machines, so these tests read the files.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from favsite.environment import READ_NAMES

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat", "gateway", "gateway-standby")
PROCESSES = {"web", "worker", "beat", "gateway"}
# Variables compose itself interpolates for the third-party containers.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "XMPP_DOMAIN"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def entry_point(command: list[str] | str) -> str:
    """What a command runs, ignoring flags: "manage.py X", "celery worker", "wsgi"."""
    args = shlex.split(command) if isinstance(command, str) else list(command)
    args = [arg for arg in args if not re.fullmatch(r"\w+=\S*", arg)]  # leading VAR=value
    if "manage.py" in args:
        sub = args[args.index("manage.py") + 1]
        return "wsgi" if sub == "runserver" else f"manage.py {sub}"
    if args[0] == "celery":
        assert args[1:3] == ["-A", "favsite"], args
        return f"celery {args[3]}"
    if args[0] == "gunicorn":
        return "wsgi"
    raise AssertionError(f"unknown command {command!r}")


def test_compose_has_every_process_and_service(compose):
    assert set(compose["services"]) == {"postgres", "redis", "prosody", *APP_SERVICES}


def test_the_standby_gateway_is_optional_with_its_own_resource_and_a_lower_priority(compose):
    standby = compose["services"]["gateway-standby"]
    assert standby["profiles"] == ["standby"]
    assert standby["command"] == compose["services"]["gateway"]["command"]
    assert standby["environment"]["XMPP_RESOURCE"] != "favsite"
    assert 0 <= int(standby["environment"]["XMPP_PRIORITY"]) < 10


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_compose_command_is_a_real_entry_point(compose, service):
    command = compose["services"][service]["command"]
    point = entry_point(command)
    if point.startswith("manage.py "):
        assert point.removeprefix("manage.py ") in get_commands()
    elif point.startswith("celery "):
        assert point in ("celery worker", "celery beat")
        assert importlib.import_module("favsite.celery").app.main == "favsite"
    else:
        assert command[1] == "favsite.wsgi"
        assert callable(importlib.import_module("favsite.wsgi").application)


def test_compose_sets_only_variables_the_settings_read(compose):
    set_by_compose = set()
    for name in APP_SERVICES:
        set_by_compose |= set(compose["services"][name].get("environment", {}))
    assert set_by_compose - READ_NAMES == set()


def test_env_example_names_only_variables_the_settings_read():
    names = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line}
    assert names - READ_NAMES - COMPOSE_ONLY == set()
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "XMPP_JID", "XMPP_PASSWORD"} <= names


def test_procfile_and_compose_run_the_same_processes(compose):
    processes = procfile()
    assert set(processes) == PROCESSES
    for name, command in processes.items():
        assert entry_point(command) == entry_point(compose["services"][name]["command"]), name


def test_redis_keeps_its_data_in_compose(compose):
    assert "--appendonly" in compose["services"]["redis"]["command"]
    assert compose["services"]["redis"]["volumes"]


def test_image_is_multi_stage_and_runs_unprivileged():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="favsite.example.org",
        SITE_URL="https://favsite.example.org",
        **extra,
    )
    return env


def test_production_settings_pass_check_deploy_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_logs_are_one_json_object_per_line():
    code = "import logging, django; django.setup(); logging.getLogger('favsite.test').warning('hello %s', 'world')"
    env = production_env(DJANGO_SETTINGS_MODULE="favsite.settings")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    entry = json.loads(result.stdout.strip().splitlines()[-1])
    assert entry["message"] == "hello world"
    assert entry["level"] == "WARNING" and entry["logger"] == "favsite.test"


def test_compose_runs_as_many_worker_processes_as_make_run(compose):
    from django.conf import settings

    replicas = compose["services"]["worker"]["deploy"]["replicas"]
    assert replicas == f"${{WORKER_PROCESSES:-{settings.WORKER_PROCESSES}}}"
