"""Password reset by mail, end to end: the page, Redis, a real worker, a real SMTP server (aiosmtpd), the link."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from bookmarks import preferences
from favsite.celery import app
from tests.conftest import make_user
from tests.fixtures.celery import purge_queues, running_worker

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-brand-new-passphrase-31"
LINK = re.compile(r"https?://\S+/accounts/reset/\S+/")


@pytest.fixture
def alice(db):
    user = make_user("alice")
    user.email = "alice@example.org"
    user.save()
    return user


def ask_for_reset(client: Client, address: str = "alice@example.org"):
    return client.post("/accounts/password_reset/", {"email": address}, REMOTE_ADDR="127.0.0.1")


def without_csrf_tokens(page: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page.decode())


def reset_link(mail) -> str:
    return LINK.search(mail.get_body(("plain",)).get_content()).group(0)


def test_the_mailed_link_sets_a_new_password_that_logs_in(alice, smtp_server, celery_worker, client, settings):
    ask_for_reset(client)
    mail = smtp_server.wait_for_mail()
    link = reset_link(mail)
    assert link.startswith(settings.SITE_URL + "/accounts/reset/")

    form_page = client.get(link.removeprefix(settings.SITE_URL), follow=True)
    assert form_page.context["validlink"]
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done.url == "/accounts/reset/done/"
    fresh = Client()
    assert fresh.post("/accounts/login/", {"username": "alice", "password": NEW_PASSWORD}).url == "/bookmarks/"


def test_the_mail_goes_to_the_account_address_from_the_configured_sender(
    alice, smtp_server, celery_worker, client, settings
):
    settings.DEFAULT_FROM_EMAIL = "favsite <noreply@bookmarks.example>"
    ask_for_reset(client, "ALICE@example.org")
    mail = smtp_server.wait_for_mail()
    assert mail["To"] == "alice@example.org"
    assert mail["From"] == "favsite <noreply@bookmarks.example>"
    assert "alice" in mail.get_body(("plain",)).get_content()


def test_a_used_link_does_not_work_twice(alice, smtp_server, celery_worker, client, settings):
    ask_for_reset(client)
    link = reset_link(smtp_server.wait_for_mail()).removeprefix(settings.SITE_URL)
    form_page = client.get(link, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = Client().get(link, follow=True)

    assert not again.context["validlink"]
    assert "This link does not work" in again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(alice, smtp_server, celery_worker, client):
    known = ask_for_reset(client)
    unknown = ask_for_reset(Client(), "nobody@example.org")
    smtp_server.wait_for_mail()  # the known address's mail, sent after both requests were answered

    assert (unknown.status_code, unknown.url) == (known.status_code, known.url)
    assert without_csrf_tokens(Client().get(unknown.url).content) == without_csrf_tokens(
        Client().get(known.url).content
    )
    assert [message["To"] for message in smtp_server.messages] == ["alice@example.org"]


def queued_tasks() -> int:
    with app.connection_for_write() as connection:
        return connection.default_channel.queue_declare("celery").message_count


def test_known_and_unknown_addresses_give_the_request_the_same_work(alice, smtp_server, client):
    purge_queues()  # no worker runs: what each request queued stays there
    ask_for_reset(client)
    after_known = queued_tasks()
    ask_for_reset(Client(), "nobody@example.org")
    after_unknown = queued_tasks()
    purge_queues()
    assert (after_known, after_unknown) == (1, 2)


def test_the_request_only_queues_the_mail_and_the_worker_sends_it(alice, smtp_server, client):
    response = ask_for_reset(client)  # no worker is running yet: nothing can reach the SMTP server
    assert response.status_code == 302
    assert smtp_server.messages == []

    with running_worker(purge=False):
        mail = smtp_server.wait_for_mail()

    assert mail["To"] == "alice@example.org"


def test_a_busy_mail_server_gets_the_mail_again_later(alice, smtp_server, celery_worker, client):
    smtp_server.refuse_next(2)
    ask_for_reset(client)
    mail = smtp_server.wait_for_mail()
    assert mail["To"] == "alice@example.org"
    assert smtp_server.received.refusals == 2


def test_the_mail_speaks_the_language_the_user_chose(alice, smtp_server, celery_worker, client):
    preferences.remember(alice, language="zh-hans")
    ask_for_reset(client)  # the page itself is shown in English
    mail = smtp_server.wait_for_mail()
    assert "重置" in mail["Subject"]
    assert "链接" in mail.get_body(("plain",)).get_content()


def test_the_mail_follows_the_page_language_when_the_user_chose_none(alice, smtp_server, celery_worker, client):
    client.post("/i18n/setlang/", {"language": "zh-hans"})
    ask_for_reset(client)
    assert "重置" in smtp_server.wait_for_mail()["Subject"]


def test_too_many_requests_for_one_address_are_refused_known_or_not(smtp_server, client):
    answers = [ask_for_reset(client, "nobody@example.org").status_code for _ in range(4)]
    assert answers == [302, 302, 302, 429]
    assert "Too many password reset requests" in ask_for_reset(client, "nobody@example.org").content.decode()


def test_the_login_page_links_forgot_password(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in page
    assert "Forgot password?" in page


def test_with_mail_off_the_login_page_offers_no_reset_and_the_reset_page_says_why(client, settings):
    settings.EMAIL_DELIVERY_BACKEND = ""
    assert "/accounts/password_reset/" not in client.get("/accounts/login/").content.decode()
    page = ask_for_reset(client)
    assert page.status_code == 200
    assert "This site sends no mail" in page.content.decode()
