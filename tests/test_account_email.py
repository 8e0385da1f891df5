"""The account's e-mail address (for password resets): optional at sign-up, changed or removed in settings."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase-42"


def sign_up(client, **fields):
    data = {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD, **fields}
    return client.post("/accounts/signup/", data, REMOTE_ADDR="127.0.0.1")


def test_the_signup_page_asks_for_an_optional_email_address(client):
    page = client.get("/accounts/signup/").content.decode()
    assert 'name="email"' in page
    assert "optional, for password resets" in page


def test_signup_with_an_email_address_keeps_it(client):
    assert sign_up(client, email="Newbie@Example.ORG").status_code == 302
    assert get_user_model().objects.get(username="newbie").email == "Newbie@example.org"


def test_signup_without_an_email_address_makes_the_account(client):
    assert sign_up(client).status_code == 302
    assert get_user_model().objects.get(username="newbie").email == ""


def test_signup_with_a_malformed_email_address_says_so_and_keeps_what_was_typed(client):
    response = sign_up(client, email="newbie-at-example")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address." in page
    assert 'value="newbie"' in page and 'value="newbie-at-example"' in page
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_settings_changes_the_email_address(alice_client, user):
    user.email = "old@example.org"
    user.save()
    alice_client.post("/settings/", {"email": "new@example.org"})
    user.refresh_from_db()
    assert user.email == "new@example.org"


def test_settings_removes_the_email_address(alice_client, user):
    user.email = "old@example.org"
    user.save()
    alice_client.post("/settings/", {"email": ""})
    user.refresh_from_db()
    assert user.email == ""


def test_settings_refuses_a_malformed_email_address(alice_client, user):
    response = alice_client.post("/settings/", {"email": "not an address"})
    assert "Enter a valid email address." in response.content.decode()
    user.refresh_from_db()
    assert user.email == ""
