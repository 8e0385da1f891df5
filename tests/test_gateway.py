"""The gateway against a real Prosody: what a person sees in their chat client.

Each test runs ``manage.py run_imgateway`` as a process and talks to it from
slixmpp clients (and once from go-sendxmpp) through a Prosody on loopback.
"""

from __future__ import annotations

import re
import shutil
import time

import pytest

from bookmarks import preferences
from bookmarks.fetching import finished
from bookmarks.models import Bookmark
from imgateway.bot import catchup, outbox
from imgateway.models import ChatSave, LinkCode, LinkedJid
from tests.conftest import make_bookmark, make_user
from tests.fixtures.celery import wait_for
from tests.fixtures.prosody import killed_with_the_save_in_hand, linked_person, send_with_go_sendxmpp

pytestmark = pytest.mark.django_db(transaction=True)


def bookmarks_of(user):
    return lambda: list(Bookmark.objects.filter(owner=user).order_by("id"))


def test_the_whole_link_flow_from_the_settings_page_to_link_code(gateway, chat_user, client, settings):
    person = chat_user()
    user = make_user("alice")
    client.force_login(user)
    settings.XMPP_JID = gateway.jid
    page = client.post("/settings/im/", {"jid": person.jid}, follow=True).content.decode()
    assert gateway.jid in page
    code = re.search(r"link ([A-Z0-9]{8})", page).group(1)
    reply = person.reply_to(gateway, f"link {code}")
    assert reply.startswith("Linked to alice")
    assert LinkedJid.objects.get(jid=person.jid).user == user
    assert not LinkCode.objects.exists()
    assert person.jid in client.get("/settings/im/").content.decode()


def test_an_unlinked_jid_gets_one_explanation_and_nothing_is_saved(gateway, chat_user):
    person = chat_user()
    first = person.reply_to(gateway, "https://example.com/a")
    assert "not linked" in first and "/settings/im/" in first
    person.send(gateway.jid, "https://example.com/b")
    assert person.reply_to(gateway, "help").startswith("Send me a link")  # the notice did not come again
    assert not Bookmark.objects.exists()


def test_help_is_answered_with_the_commands(gateway, chat_user):
    reply = chat_user().reply_to(gateway, "/帮助")
    assert "recent" in reply and "undo" in reply


def test_a_duplicate_url_is_answered_already_saved(gateway, chat_user):
    user, person = linked_person(chat_user)
    make_bookmark(user, url="https://example.com/known")
    reply = person.reply_to(gateway, "https://example.com/known #x")
    assert reply.startswith("Already saved on ")
    assert Bookmark.objects.get(owner=user).tags.get().name == "x"


def test_several_urls_with_tags_and_a_note_are_saved(gateway, chat_user):
    user, person = linked_person(chat_user)
    person.send(gateway.jid, "for the weekend https://a.example/1 https://b.example/2 #read #later")
    saved = wait_for(bookmarks_of(user), lambda rows: len(rows) == 2)
    assert [b.url for b in saved] == ["https://a.example/1", "https://b.example/2"]
    assert {b.note for b in saved} == {"for the weekend"}
    assert {t.name for t in saved[0].tags.all()} == {"read", "later"}


def test_the_bot_shows_composing_while_a_save_is_in_flight(gateway, chat_user):
    _user, person = linked_person(chat_user)
    person.send(gateway.jid, "https://example.com/a")
    person.wait_for_message(lambda m: m.chat_state == "composing")


def test_an_oob_url_is_saved(gateway, chat_user):
    user, person = linked_person(chat_user)
    person.send(gateway.jid, "", oob="https://files.example/cat.jpg")
    assert wait_for(bookmarks_of(user), bool)[0].url == "https://files.example/cat.jpg"


def test_a_receipt_is_sent_when_asked(gateway, chat_user):
    person = chat_user()
    message_id = person.send(gateway.jid, "help", receipt=True)
    person.wait_for_message(lambda m: m.receipt == message_id)


def test_groupchat_headline_and_error_messages_are_never_answered(gateway, chat_user):
    person = chat_user()
    for mtype in ("groupchat", "headline", "error"):
        person.send(gateway.jid, "help", mtype=mtype)
    reply = person.reply_to(gateway, "tags")
    time.sleep(0.3)
    assert person.bodies() == [reply]
    assert "not linked" in reply


def test_recent_find_tags_del_and_undo_work_in_chat(gateway, chat_user):
    user, person = linked_person(chat_user)
    kept = make_bookmark(user, url="https://example.com/kept", title="Async Python", tags=["py"])
    gone = make_bookmark(user, url="https://example.com/gone", title="Gardening")
    assert person.reply_to(gateway, "recent").startswith(f"[{gone.pk}] Gardening")
    assert "Async Python" in person.reply_to(gateway, "最近 5")
    assert person.reply_to(gateway, "find python").startswith(f"[{kept.pk}] Async Python")
    assert person.reply_to(gateway, "/tags") == "#py (1)"
    assert person.reply_to(gateway, f"del {gone.pk}") == "Deleted 1 bookmark."
    person.send(gateway.jid, "https://example.com/oops")
    wait_for(bookmarks_of(user), lambda rows: len(rows) == 2)
    assert "https://example.com/oops" in person.reply_to(gateway, "撤销")
    assert [b.url for b in bookmarks_of(user)()] == ["https://example.com/kept"]
    assert person.reply_to(gateway, "frobnicate").startswith("I don't know")
    assert "no longer linked" in person.reply_to(gateway, "unlink")


def test_too_many_messages_get_one_slow_down_notice(gateway, chat_user, settings):
    _user, person = linked_person(chat_user)
    for _ in range(settings.XMPP_RATE_BURST + 5):
        person.send(gateway.jid, "tags")
    person.wait_for_message(lambda m: m.body.startswith("Slow down"))
    wait_for(person.bodies, lambda bodies: len(bodies) >= settings.XMPP_RATE_BURST + 1)
    time.sleep(0.5)
    bodies = person.bodies()
    assert sum(body.startswith("Slow down") for body in bodies) == 1
    assert len(bodies) == settings.XMPP_RATE_BURST + 1


def test_a_4_kib_message_is_read_and_a_longer_one_refused(gateway, chat_user, settings):
    user, person = linked_person(chat_user)
    url = "https://example.com/long"
    body = url + " " + "n" * (settings.XMPP_MAX_BODY_BYTES - len(url) - 1)
    person.send(gateway.jid, body)
    assert wait_for(bookmarks_of(user), bool)[0].url == url
    assert "too long" in person.reply_to(gateway, "https://example.com/x " + "n" * settings.XMPP_MAX_BODY_BYTES)
    assert len(bookmarks_of(user)()) == 1


def test_a_300_kb_message_is_stopped_by_prosody_and_the_gateway_carries_on(gateway, chat_user, prosody):
    user, person = linked_person(chat_user)
    person.send(gateway.jid, "https://example.com/huge " + "x" * 300_000)
    again = chat_user(resource="phone", connect=False)
    again.user, again.jid = person.user, person.jid  # the same account, a new connection
    again.connect()
    assert again.reply_to(gateway, "help").startswith("Send me a link")
    assert not Bookmark.objects.exists()
    assert gateway.process.poll() is None


def test_the_bot_approves_a_subscription_and_shows_its_status(gateway, chat_user):
    person = chat_user()
    person.subscribe(gateway.jid)
    # Prosody forwards the bot's broadcast presence (with its status line) only
    # to contacts whose subscription the bot approved.
    wait_for(lambda: person.presences, lambda p: any("link" in status for _f, _t, status in p))


@pytest.mark.skipif(shutil.which("go-sendxmpp") is None, reason="go-sendxmpp is not installed")
def test_a_url_sent_from_go_sendxmpp_is_saved(gateway, chat_user, prosody, tmp_path):
    user, person = linked_person(chat_user, connect=False)
    body = "https://example.com/from-go #cli"
    send_with_go_sendxmpp(person.jid, person.password, prosody.address, gateway.jid, body, tmp_path)
    saved = wait_for(bookmarks_of(user), bool)
    assert saved[0].url == "https://example.com/from-go"
    assert [t.name for t in saved[0].tags.all()] == ["cli"]


# -- confirmations, restarts and crashes (with a real worker and page server) --


def test_a_saved_url_is_confirmed_with_its_title(gateway, chat_user, celery_worker, page_server):
    _user, person = linked_person(chat_user)
    page_server.route("/a", body="<title>Hello page</title>")
    url = page_server.url("/a")
    person.send(gateway.jid, f"{url} #t")
    reply = person.wait_for_message(lambda m: m.body.startswith("Saved"))
    assert reply.body == f"Saved: Hello page\n{url}"
    assert reply.sender.endswith("/favsite")


def test_one_composing_covers_links_sent_in_a_row_and_the_last_confirmation_ends_it(
    gateway, chat_user, celery_worker, page_server
):
    _user, person = linked_person(chat_user)
    page_server.route("/slow", body="<title>Slow</title>", hang=1.5)
    page_server.route("/fast", body="<title>Fast</title>")
    person.send(gateway.jid, page_server.url("/slow"))
    person.send(gateway.jid, page_server.url("/fast"))
    last = person.wait_for_message(lambda m: m.body.startswith("Saved: Slow"))
    first = person.wait_for_message(lambda m: m.body.startswith("Saved: Fast"))
    assert (first.chat_state, last.chat_state) == ("composing", "active")
    states = [m.chat_state for m in person.messages if not m.body]
    assert states == ["composing"]


def test_several_urls_get_one_confirmation_listing_them(gateway, chat_user, celery_worker, page_server):
    user, person = linked_person(chat_user)
    page_server.route("/one", body="<title>One</title>")
    page_server.route("/two", status=404)
    make_bookmark(user, url=page_server.url("/old"))
    person.send(gateway.jid, f"{page_server.url('/one')} {page_server.url('/two')} {page_server.url('/old')}")
    reply = person.wait_for_message(lambda m: "Saved" in m.body)
    assert f"Saved: One\n{page_server.url('/one')}" in reply.body
    assert "Saved without a title" in reply.body and page_server.url("/two") in reply.body
    assert "Already saved on" in reply.body and page_server.url("/old") in reply.body
    time.sleep(0.5)
    assert len(person.bodies()) == 1


def test_the_gateway_comes_back_after_a_prosody_restart_and_saves_what_was_sent_meanwhile(gateway, chat_user, prosody):
    user, person = linked_person(chat_user)
    assert person.reply_to(gateway, "tags").startswith("You have no tags")
    prosody.stop()
    person.disconnect()
    prosody.start()
    again = chat_user(connect=False)
    again.user, again.jid = person.user, person.jid
    again.connect()
    again.send(gateway.jid, "https://example.com/while-away #restart")
    saved = wait_for(bookmarks_of(user), bool, timeout=45)
    assert saved[0].url == "https://example.com/while-away"
    assert again.reply_to(gateway, "tags") == "#restart (1)"


def all_sent_and_drained(client) -> None:
    """Wait until every chat save's confirmation is marked sent and the outbox stream is empty."""
    wait_for(
        lambda: (ChatSave.objects.filter(sent_at__isnull=True).count(), client.xlen(finished.stream_name())),
        lambda state: state == (0, 0),
        timeout=30,
    )


def test_a_killed_gateway_restarts_and_each_confirmation_arrives_once(gateway, chat_user, celery_worker, page_server):
    import redis as redis_lib
    from django.conf import settings

    user, person = linked_person(chat_user)
    page_server.route("/slow", body="<title>Slow page</title>", hang=1.5)
    person.send(gateway.jid, page_server.url("/slow"))
    page_server.wait_for_request("/slow")  # saved, queued, and the worker is fetching
    gateway.kill()  # SIGKILL: no goodbye, a hibernating stream left on the server
    client = redis_lib.Redis.from_url(settings.REDIS_URL)
    wait_for(lambda: client.xlen(finished.stream_name()), lambda n: n == 1)
    # As if the dead gateway had read the entry but died before sending it.
    client.xreadgroup(outbox.GROUP, "favsite", {finished.stream_name(): ">"}, count=10)
    page_server.route("/while-dead", body="<title>Sent while dead</title>")
    person.send(gateway.jid, page_server.url("/while-dead"))  # to the bare JID; the old session hibernates
    gateway.start()
    reply = person.wait_for_message(lambda m: m.body.startswith("Saved"))
    assert reply.body == f"Saved: Slow page\n{page_server.url('/slow')}"
    wait_for(bookmarks_of(user), lambda rows: len(rows) == 2, timeout=30)
    person.wait_for_message(lambda m: m.body.startswith("Saved: Sent while dead"))
    # A confirmation is one chat save sent once: when each is marked sent and the
    # stream is empty, no second copy can still come (no waiting for one).
    all_sent_and_drained(client)
    assert sum("Slow page" in body for body in person.bodies()) == 1
    assert client.xpending(finished.stream_name(), outbox.GROUP)["pending"] == 0


def test_a_message_received_but_not_saved_when_the_gateway_is_killed_is_saved_once_after_restart(
    gateway, chat_user, celery_worker, page_server
):
    user, person = linked_person(chat_user)
    url = page_server.route("/in-flight", body="<title>In flight</title>")
    killed_with_the_save_in_hand(gateway, person, url)
    assert bookmarks_of(user)() == []
    gateway.start()  # it catches up from the server's archive; the server's own copy is recognised
    person.wait_for_message(lambda m: m.body.startswith("Saved: In flight"))
    import redis as redis_lib
    from django.conf import settings

    all_sent_and_drained(redis_lib.Redis.from_url(settings.REDIS_URL))
    assert ChatSave.objects.count() == 1  # one save, so one confirmation
    assert [row.url for row in bookmarks_of(user)()] == [url]
    assert sum(body.startswith("Saved: In flight") for body in person.bodies()) == 1
    assert not any("Already saved" in body for body in person.bodies())


def test_a_message_in_hand_when_the_gateway_dies_is_caught_up_from_the_archive_under_a_new_resource(
    gateway, chat_user, celery_worker, page_server
):
    """Under another resource the server keeps its own copy with the dead, hibernating session: the archive has it."""
    user, person = linked_person(chat_user)
    url = page_server.route("/in-hand", body="<title>In hand</title>")
    killed_with_the_save_in_hand(gateway, person, url)
    gateway.env["XMPP_RESOURCE"] = "favsite-standby"
    gateway.start()
    assert person.wait_for_message(lambda m: m.body.startswith("Saved")).body == f"Saved: In hand\n{url}"
    assert [row.url for row in bookmarks_of(user)()] == [url]
    assert "caught up from the archive: 1 messages" in gateway.log()


def test_links_sent_while_the_gateway_was_stopped_are_all_saved_past_the_rate_limit(gateway, chat_user):
    """The server keeps them (offline storage) and hands them over in one burst: no "slow down" for that."""
    user, person = linked_person(chat_user)
    gateway.stop()
    gateway.env["XMPP_RATE_BURST"] = "3"
    for number in range(6):
        person.send(gateway.jid, f"https://example.com/kept/{number}")
    gateway.start()
    assert len(wait_for(bookmarks_of(user), lambda rows: len(rows) == 6)) == 6
    assert not any(body.startswith("Slow down") for body in person.bodies())


def test_catching_up_reads_every_page_of_the_archive(gateway, chat_user):
    """Under a new resource only the archive has what was sent while the gateway was dead: more than a page of it."""
    user, person = linked_person(chat_user)
    assert person.reply_to(gateway, "tags").startswith("You have no tags")
    gateway.kill()
    for number in range(catchup.PAGE_SIZE + 5):
        person.send(gateway.jid, f"https://example.com/while-dead/{number}")
    gateway.env["XMPP_RESOURCE"] = "favsite-after"
    gateway.start()
    saved = wait_for(bookmarks_of(user), lambda rows: len(rows) == catchup.PAGE_SIZE + 5, timeout=60)
    assert len({row.url for row in saved}) == catchup.PAGE_SIZE + 5


def test_a_person_who_chose_chinese_is_answered_in_chinese(gateway, chat_user):
    user, person = linked_person(chat_user)
    preferences.remember(user, language="zh-hans")
    assert person.reply_to(gateway, "recent") == "你还没有书签。发给我一个链接吧！"


def test_a_person_who_chose_chinese_gets_the_confirmation_in_chinese(gateway, chat_user, celery_worker, page_server):
    user, person = linked_person(chat_user)
    preferences.remember(user, language="zh-hans")
    url = page_server.route("/zh", body="<title>收藏夹</title>")
    person.send(gateway.jid, url)
    assert person.wait_for_message().body == f"已保存：收藏夹\n{url}"


def test_the_gateway_creates_the_outbox_group_again_when_redis_lost_it(gateway, chat_user, celery_worker, page_server):
    import redis as redis_lib
    from django.conf import settings

    user, person = linked_person(chat_user)
    client = redis_lib.Redis.from_url(settings.REDIS_URL)
    stream = finished.stream_name()
    wait_for(lambda: client.exists(stream) and client.xinfo_groups(stream), bool)
    client.delete(stream)  # the stream and its consumer group, gone as in a wiped Redis
    url = page_server.route("/after-the-wipe", body="<title>After the wipe</title>")
    person.send(gateway.jid, url)
    person.wait_for_message(lambda m: m.body.startswith("Saved: After the wipe"))
    log = gateway.log()
    assert log.count("consumer group is gone") == 1
    assert "Traceback" not in log
