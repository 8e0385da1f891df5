"""Forgot password, in a browser on a 390 px phone, in English and Chinese: login page -> mail -> new password."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.e2e.conftest import PHONE, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-brand-new-passphrase-31"
WORDS = {
    "en": {"forgot": "Forgot password?", "send": "Send the link", "set": "Set the password", "log in": "Log in"},
    "zh-hans": {"forgot": "忘记密码？", "send": "发送链接", "set": "保存新密码", "log in": "登录"},
}


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("phone", ["en", "zh-hans"], indirect=True)
def test_a_forgotten_password_is_reset_from_the_mailed_link_on_a_phone(
    phone, live_server, smtp_server, celery_worker, settings
):
    settings.SITE_URL = live_server.url
    user = make_user("alice")
    user.email = "alice@example.org"
    user.save()
    language = next(cookie["value"] for cookie in phone.context.cookies() if cookie["name"] == "django_language")
    words = WORDS[language]

    phone.goto("/accounts/login/")
    phone.get_by_role("link", name=words["forgot"]).click()
    phone.locator("#id_email").fill("alice@example.org")
    assert fits_the_phone(phone)
    screenshot(phone, f"password-reset-390-{language}")
    phone.get_by_role("button", name=words["send"]).click()
    expect(phone).to_have_url(re.compile(r"/accounts/password_reset/done/$"))
    assert fits_the_phone(phone)

    mail = smtp_server.wait_for_mail()
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.get_body(("plain",)).get_content()).group(0)
    phone.goto(link)
    phone.locator("#id_new_password1").fill(NEW_PASSWORD)
    phone.locator("#id_new_password2").fill(NEW_PASSWORD)
    assert fits_the_phone(phone)
    phone.get_by_role("button", name=words["set"]).click()
    expect(phone).to_have_url(re.compile(r"/accounts/reset/done/$"))

    phone.locator("main").get_by_role("link", name=words["log in"]).click()
    phone.locator("#id_username").fill("alice")
    phone.locator("#id_password").fill(NEW_PASSWORD)
    phone.locator("main").get_by_role("button", name=words["log in"]).click()
    expect(phone).to_have_url(re.compile(r"/bookmarks/$"))
