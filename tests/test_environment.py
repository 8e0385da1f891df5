"""Settings helpers refuse values they do not understand."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from favsite.environment import env_bool, env_choice, env_int, env_list, env_networks, env_str


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("false", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("FAVSITE_FLAG", raw)
    assert env_bool("FAVSITE_FLAG", not value) is value


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("FAVSITE_FLAG", "yes please")
    with pytest.raises(ImproperlyConfigured, match="FAVSITE_FLAG"):
        env_bool("FAVSITE_FLAG", False)


def test_env_bool_default_when_unset(monkeypatch):
    monkeypatch.delenv("FAVSITE_FLAG", raising=False)
    assert env_bool("FAVSITE_FLAG", True) is True


def test_env_int_refuses_words_and_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("FAVSITE_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("FAVSITE_N", 1)
    monkeypatch.setenv("FAVSITE_N", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("FAVSITE_N", 1, minimum=0)


def test_file_variant_wins_for_secrets(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv("FAVSITE_SECRET", "from-env")
    monkeypatch.setenv("FAVSITE_SECRET_FILE", str(secret))
    assert env_str("FAVSITE_SECRET") == "from-file"


def test_env_list_and_networks(monkeypatch):
    monkeypatch.setenv("FAVSITE_HOSTS", " a.example , ,b.example")
    monkeypatch.setenv("FAVSITE_NETS", "127.0.0.0/8, ::1/128")
    assert env_list("FAVSITE_HOSTS") == ["a.example", "b.example"]
    assert [str(n) for n in env_networks("FAVSITE_NETS")] == ["127.0.0.0/8", "::1/128"]


def test_env_networks_refuses_a_bad_cidr(monkeypatch):
    monkeypatch.setenv("FAVSITE_NETS", "10.0.0.0/33")
    with pytest.raises(ImproperlyConfigured, match="CIDR"):
        env_networks("FAVSITE_NETS")


def test_env_choice_refuses_unknown_values(monkeypatch):
    monkeypatch.setenv("XMPP_TLS", "maybe")
    with pytest.raises(ImproperlyConfigured, match="starttls, direct, off"):
        env_choice("XMPP_TLS", "starttls", ("starttls", "direct", "off"))
