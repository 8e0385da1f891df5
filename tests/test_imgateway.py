"""The gateway's message handling, called directly (no socket): what each message gets back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bookmarks import preferences
from bookmarks.models import Bookmark
from imgateway.linking import LinkError, link_verified, start_link, subscription_allowed
from imgateway.messages import Incoming, handle_message, slow_down_notice
from imgateway.models import ChatSave, LinkCode, LinkedJid, ReceivedMessage
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db

ALICE = "alice@example.org/phone"


def say(body: str, sender: str = ALICE, oob: list[str] | None = None, archive_id: str = ""):
    return handle_message(Incoming(sender, body, oob or [], "m1", archive_id))


@pytest.fixture
def alice(user):
    link_verified(user, "alice@example.org")
    return user


# -- linking -------------------------------------------------------------------


def test_the_link_code_sent_from_the_jid_links_it(user):
    code = start_link(user, "Alice@Example.org")
    reply = say(f"link {code.code.lower()}")
    assert "Linked to alice" in reply.text
    assert LinkedJid.objects.get(jid="alice@example.org").user == user
    assert not LinkCode.objects.exists()


def test_an_address_waiting_for_its_code_cannot_save_links_yet(user):
    start_link(user, "alice@example.org")  # added on the settings page, code not sent yet
    reply = say("https://example.com/too-early")
    assert "not linked" in reply.text
    assert not Bookmark.objects.exists()


def test_a_code_sent_from_another_jid_does_not_link(user):
    code = start_link(user, "alice@example.org")
    reply = say(f"link {code.code}", sender="mallory@example.org/x")
    assert "not linked" in reply.text  # no code waits for mallory: the stranger's notice
    assert not LinkedJid.objects.exists()


def test_five_wrong_codes_void_the_code(user):
    code = start_link(user, "alice@example.org")
    replies = [say("link WRONG123").text for _ in range(5)]
    assert all("not valid" in text for text in replies)
    say(f"link {code.code}")
    assert not LinkedJid.objects.exists()


def test_an_expired_code_does_not_link(user):
    code = start_link(user, "alice@example.org")
    LinkCode.objects.filter(pk=code.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    say(f"link {code.code}")
    assert not LinkedJid.objects.exists()


def test_a_jid_linked_to_one_account_cannot_be_claimed_by_another(alice, other_user):
    with pytest.raises(LinkError):
        start_link(other_user, "alice@example.org")


def test_unlink_from_chat_removes_the_link(alice):
    assert "no longer linked" in say("/unlink").text
    assert not LinkedJid.objects.exists()


def test_imlink_links_a_jid_as_verified(user, capsys):
    call_command("imlink", "alice", "Alice@Example.org/res")
    assert LinkedJid.objects.get().jid == "alice@example.org"


def test_an_unknown_jid_gets_one_explanation_per_hour(db):
    sender = f"stranger{timezone.now().timestamp()}@example.org/x"
    first = say("https://example.com/a", sender=sender)
    second = say("https://example.com/b", sender=sender)
    assert "/settings/im/" in first.text
    assert second.text is None
    assert not Bookmark.objects.exists()


def test_link_codes_from_a_stranger_are_answered_once_an_hour_and_leave_no_row(db):
    sender = f"stranger{timezone.now().timestamp()}@example.org/x"
    replies = [
        handle_message(Incoming(sender, f"link GUESS{n:03d}", [], f"m{n}", archive_id=f"a{n}")).text for n in range(5)
    ]
    assert "not linked" in replies[0] and replies[1:] == [None] * 4
    assert not ReceivedMessage.objects.exists()


# -- saving --------------------------------------------------------------------


def test_a_url_with_tags_and_a_note_is_saved_and_awaits_confirmation(alice):
    reply = say("great read https://example.com/post #python #web")
    assert reply.text is None and reply.awaiting_confirmation
    bookmark = Bookmark.objects.get()
    assert (bookmark.url, bookmark.note, bookmark.source) == ("https://example.com/post", "great read", "im")
    assert sorted(t.name for t in bookmark.tags.all()) == ["python", "web"]
    assert ChatSave.objects.get().jid == ALICE


def test_several_urls_in_one_message_share_tags_and_note(alice):
    say("see later https://a.example/1, https://b.example/2 #x")
    bookmarks = list(Bookmark.objects.order_by("url"))
    assert [b.url for b in bookmarks] == ["https://a.example/1", "https://b.example/2"]
    assert [(b.note, [t.name for t in b.tags.all()]) for b in bookmarks] == [("see later", ["x"])] * 2
    assert ChatSave.objects.get().items.count() == 2


def test_a_duplicate_is_answered_already_saved_with_the_date(alice):
    make_bookmark(alice, url="https://example.com/old", created_at=timezone.now() - timedelta(days=400))
    reply = say("https://example.com/old/")
    assert reply.text.startswith("Already saved on ")
    assert (timezone.now() - timedelta(days=400)).strftime("%Y-%m-%d") in reply.text
    assert Bookmark.objects.count() == 1


def test_a_message_received_again_with_the_same_archive_id_is_dropped(alice):
    say("https://example.com/post great read #python", archive_id="A1")
    copy = say("https://example.com/post great read #python", archive_id="A1")  # offline storage, or the archive
    assert (copy.text, copy.awaiting_confirmation) == (None, False)
    bookmark = Bookmark.objects.get()
    assert bookmark.note == "great read"
    assert ChatSave.objects.count() == 1


def test_the_same_message_sent_again_is_answered_already_saved(alice):
    say("https://example.com/post", archive_id="A1")
    assert say("https://example.com/post", archive_id="A2").text.startswith("Already saved on ")


def test_a_command_received_again_does_not_act_again(alice):
    make_bookmark(alice, url="https://example.com/one")
    make_bookmark(alice, url="https://example.com/two")
    say("https://example.com/three", archive_id="A0")
    assert say("undo", archive_id="A1").text.startswith("Removed: ")
    assert say("undo", archive_id="A1").text is None
    assert Bookmark.objects.count() == 2


def test_a_message_the_server_gave_no_archive_id_is_never_taken_for_a_copy(alice):
    say("https://example.com/post")
    assert say("https://example.com/post").text.startswith("Already saved on ")


def test_invalid_pieces_are_named_in_the_reply(alice):
    reply = say("ftp://files.example/x http://.bad https://ok.example/")
    assert reply.awaiting_confirmation
    lines = ChatSave.objects.get().lines
    assert any("ftp://files.example/x" in line for line in lines)
    assert any("http://.bad" in line for line in lines)


def test_at_most_ten_urls_are_saved_and_the_rest_named(alice):
    urls = [f"https://example.com/{i}" for i in range(12)]
    say(" ".join(urls))
    assert Bookmark.objects.count() == 10
    lines = ChatSave.objects.get().lines
    assert [u for u in urls[10:] if any(u in line for line in lines)] == urls[10:]


def test_a_body_over_the_cap_saves_nothing(alice, settings):
    body = "https://example.com/x " + "a" * settings.XMPP_MAX_BODY_BYTES
    assert "too long" in say(body).text
    assert not Bookmark.objects.exists()


def test_a_body_at_the_cap_is_saved(alice, settings):
    url = "https://example.com/x"
    body = url + " " + "n" * (settings.XMPP_MAX_BODY_BYTES - len(url) - 1)
    assert len(body.encode()) == settings.XMPP_MAX_BODY_BYTES
    assert say(body).awaiting_confirmation
    assert Bookmark.objects.get().url == url


def test_an_oob_url_is_saved(alice):
    say("", oob=["https://files.example/cat.jpg"])
    assert Bookmark.objects.get().url == "https://files.example/cat.jpg"


# -- commands ------------------------------------------------------------------


@pytest.mark.parametrize("word", ["help", "/HELP", "帮助", "/帮助"])
def test_help_lists_the_commands(db, word):
    text = say(word).text
    assert "recent" in text and "find" in text and "undo" in text


def test_help_names_every_chinese_alias(db):
    from imgateway.parsing import COMMANDS

    text = say("help").text
    assert [word for word in COMMANDS if not word.isascii() and word not in text] == []


@pytest.mark.parametrize("word", ["recent", "/Recent 2", "最近"])
def test_recent_lists_the_newest_bookmarks(alice, word):
    make_bookmark(alice, url="https://example.com/old", title="Old one")
    newest = make_bookmark(alice, url="https://example.com/new", title="New one")
    text = say(word).text
    assert text.startswith(f"[{newest.pk}] New one")


def test_recent_with_a_number_limits_the_list(alice):
    for i in range(3):
        make_bookmark(alice, url=f"https://example.com/{i}")
    assert say("recent 1").text.count("https://") == 1


@pytest.mark.parametrize("word", ["find", "/FIND", "搜索"])
def test_find_searches_the_collection(alice, word):
    make_bookmark(alice, url="https://example.com/a", title="Async Python")
    make_bookmark(alice, url="https://example.com/b", title="Gardening")
    text = say(f"{word} python").text
    assert "Async Python" in text and "Gardening" not in text


def test_find_links_to_the_kept_text_of_pages_that_have_it(alice, settings):
    from bookmarks.models import PageText

    settings.SITE_URL = "https://fav.example"
    kept = make_bookmark(alice, url="https://example.com/kept", title="Python kept")
    make_bookmark(alice, url="https://example.com/bare", title="Python bare")
    PageText.objects.create(bookmark=kept, state=PageText.State.KEPT, text="words")
    text = say("find python").text
    assert f"Kept text: https://fav.example/bookmarks/{kept.pk}/read/" in text
    assert text.count("Kept text:") == 1


def test_find_says_when_nothing_matches(alice):
    assert "Nothing found" in say("find zebra").text


@pytest.mark.parametrize("word", ["tags", "标签"])
def test_tags_lists_tags_with_counts(alice, word):
    make_bookmark(alice, tags=["python", "web"])
    make_bookmark(alice, tags=["python"])
    assert say(word).text == "#python (2) #web (1)"


@pytest.mark.parametrize("word", ["del", "/del", "删除"])
def test_del_deletes_a_bookmark_by_id(alice, word):
    bookmark = make_bookmark(alice)
    assert "Deleted 1" in say(f"{word} {bookmark.pk}").text
    assert not Bookmark.objects.exists()


def test_del_cannot_delete_another_users_bookmark(alice, other_user):
    theirs = make_bookmark(other_user)
    assert "No such bookmark" in say(f"del {theirs.pk}").text
    assert Bookmark.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("word", ["undo", "撤销"])
def test_undo_removes_the_last_bookmark_saved_from_this_jid(alice, word):
    say("https://example.com/first")
    say("https://example.com/second")
    assert "https://example.com/second" in say(word).text
    assert [b.url for b in Bookmark.objects.all()] == ["https://example.com/first"]


def test_undo_does_not_remove_a_bookmark_saved_on_the_web(alice):
    make_bookmark(alice)
    assert say("undo").text == "Nothing to undo."
    assert Bookmark.objects.count() == 1


def test_an_unknown_word_gets_a_one_line_hint(alice):
    text = say("hello there").text
    assert "help" in text and "\n" not in text


def test_a_slash_word_that_is_no_command_gets_the_hint(alice):
    assert "/frobnicate" not in say("/frobnicate").text and "help" in say("/frobnicate").text


# -- roster --------------------------------------------------------------------


def test_strangers_cannot_grow_the_roster_past_the_cap(alice, settings):
    settings.XMPP_ROSTER_MAX_STRANGERS = 2
    assert subscription_allowed("s3@example.org", ["s1@example.org"])
    assert not subscription_allowed("s3@example.org", ["s1@example.org", "s2@example.org"])
    assert subscription_allowed("alice@example.org", ["s1@example.org", "s2@example.org"])


# -- the settings page ---------------------------------------------------------


def test_the_settings_page_shows_a_code_and_the_bot_address(alice_client, settings):
    settings.XMPP_JID = "bot@example.org"
    response = alice_client.post("/settings/im/", {"jid": "Me@Example.org/laptop"}, follow=True)
    code = LinkCode.objects.get()
    assert code.jid == "me@example.org"
    assert f"link {code.code}" in response.content.decode()
    assert "bot@example.org" in response.content.decode()


def test_the_settings_page_unlinks_a_jid(alice_client, user):
    link_verified(user, "me@example.org")
    alice_client.post("/settings/im/unlink/", {"jid": "me@example.org"})
    assert not LinkedJid.objects.exists()


def test_the_settings_page_requires_login(client):
    assert client.get("/settings/im/").status_code == 302


# -- the bot's own rules (no server needed) ------------------------------------


def test_xmpp_tls_off_is_refused_for_a_non_loopback_server(settings):
    from django.core.exceptions import ImproperlyConfigured

    from imgateway.bot.config import GatewayConfig

    settings.XMPP_JID, settings.XMPP_PASSWORD, settings.XMPP_TLS = "bot@example.org", "pw", "off"
    settings.XMPP_SERVER = "xmpp.example.org:5222"
    with pytest.raises(ImproperlyConfigured):
        GatewayConfig.from_settings()
    settings.XMPP_SERVER = ""
    with pytest.raises(ImproperlyConfigured):
        GatewayConfig.from_settings()
    settings.XMPP_SERVER = "127.0.0.1:5222"
    assert GatewayConfig.from_settings().port == 5222


def test_the_gateways_presence_priority_comes_from_xmpp_priority_within_the_xmpp_range(settings):
    from django.core.exceptions import ImproperlyConfigured

    from imgateway.bot.config import GatewayConfig

    settings.XMPP_JID, settings.XMPP_PASSWORD = "bot@example.org", "pw"
    settings.XMPP_PRIORITY = 5
    assert GatewayConfig.from_settings().priority == 5
    settings.XMPP_PRIORITY = 128
    with pytest.raises(ImproperlyConfigured):
        GatewayConfig.from_settings()


def test_reconnect_delays_grow_with_jitter_and_stay_under_30_seconds():
    from imgateway.bot.pacing import Backoff

    backoff = Backoff()
    delays = [backoff.next_delay() for _ in range(40)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0
    assert max(delays) <= 30.0 and min(delays[10:]) >= 15.0
    assert len(set(delays)) > 30  # jittered, not in step
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_the_token_bucket_refuses_past_the_burst_and_notifies_once():
    from imgateway.bot.pacing import TokenBuckets

    buckets = TokenBuckets(burst=3, per_minute=0.001)
    results = [buckets.take("a@example.org") for _ in range(6)]
    assert [allowed for allowed, _notify in results] == [True, True, True, False, False, False]
    assert [notify for _allowed, notify in results] == [False, False, False, True, False, False]
    assert buckets.take("b@example.org") == (True, False)  # per JID


def test_the_token_bucket_forgets_the_least_recent_jids_past_its_size():
    from imgateway.bot.pacing import TokenBuckets

    buckets = TokenBuckets(burst=1, per_minute=0.001, max_entries=2)
    for jid in ("a@x", "b@x", "c@x"):
        buckets.take(jid)
    assert len(buckets._buckets) == 2


# -- language ------------------------------------------------------------------


def test_a_person_who_chose_chinese_is_answered_in_chinese(alice):
    preferences.remember(alice, language="zh-hans")
    assert say("recent").text == "你还没有书签。发给我一个链接吧！"


def test_a_stranger_is_answered_in_the_sites_language(db, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    assert say("recent", sender="site-language@example.org/x").text.startswith("这个地址")


def test_the_slow_down_notice_is_in_the_senders_language(alice):
    preferences.remember(alice, language="zh-hans")
    assert slow_down_notice("alice@example.org") == "请慢一点：消息太多了。这条没有保存，请一分钟后再发一次。"
