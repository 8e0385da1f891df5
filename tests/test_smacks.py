"""``imgateway.smacks.FinishedAcks`` on a real slixmpp client, without a socket.

Stanzas go through the client's own ``recv_stanza``; a message handler holds
the messages whose body says ``hold`` and the test releases them, as the
database threads do after a commit. ``h`` is what the stream management
plugin would report in ``<a/>`` or ``<resume/>``.
"""

from __future__ import annotations

import asyncio

from slixmpp import ClientXMPP
from slixmpp.plugins.xep_0198 import stanza as sm_stanza

from imgateway.smacks import FinishedAcks, keep_sent_as_text


class Client(ClientXMPP):
    def __init__(self) -> None:
        super().__init__("bot@example.org/favsite", "secret")
        self.register_plugin("xep_0198")
        self.acks = FinishedAcks(self)
        self.plugin["xep_0198"].enabled_in = True  # as after <enabled/>
        self.releases: dict[str, object] = {}
        self.seen: list[str] = []
        self.add_event_handler("message", self._on_message)

    def recv_stanza(self, stanza) -> None:
        self.acks.receive(stanza, super().recv_stanza)

    def _on_message(self, msg) -> None:
        self.seen.append(msg["body"])
        if msg["body"].startswith("hold"):
            self.releases[msg["body"]] = self.acks.hold()

    def deliver(self, *bodies: str) -> None:
        for body in bodies:
            self.recv_stanza(self.make_message(mto=self.boundjid, mfrom="alice@example.org/phone", mbody=body))

    @property
    def h(self) -> int:
        return self.plugin["xep_0198"].handled


def run(test) -> None:
    async def main() -> None:
        test(Client())

    asyncio.run(main())


def test_h_stops_at_the_first_message_still_being_saved():
    def test(client: Client) -> None:
        client.deliver("a", "hold 1", "b", "hold 2", "c")
        assert client.h == 1
        client.releases["hold 2"]()
        assert client.h == 1  # "hold 1" still runs: h counts in order
        client.releases["hold 1"]()
        assert client.h == 5

    run(test)


def test_a_release_from_a_stream_that_ended_changes_nothing():
    def test(client: Client) -> None:
        client.deliver("hold old")
        client.event("sm_enabled", None)  # a new stream: h starts again at 0
        client.deliver("hold new")  # number 1 again, in the new stream
        client.releases["hold old"]()
        assert client.h == 0

    run(test)


def test_after_resuming_the_copies_of_stanzas_already_received_are_dropped():
    def test(client: Client) -> None:
        client.deliver("a", "hold 1", "b")
        resume = sm_stanza.Resume(client)
        resume["h"] = client.h
        client.acks._watch_resume(resume)  # the out filter sees our <resume h="1"/>
        client.deliver("hold 1", "b", "c")  # the server sends again what followed h=1, then new ones
        assert client.seen == ["a", "hold 1", "b", "c"]
        client.releases["hold 1"]()
        assert client.h == 4

    run(test)


def test_a_save_finishing_between_writing_resume_and_sending_it_does_not_count_the_replays_twice():
    def test(client: Client) -> None:
        client.deliver("a", "hold 1", "b")
        resume = sm_stanza.Resume(client)
        resume["h"] = client.h  # slixmpp fills it in from the stream features: h=1
        client.releases["hold 1"]()  # the save commits before the queued <resume/> goes out
        client.acks._watch_resume(resume)
        client.deliver("hold 1", "b", "c")  # the server resends 2 and 3 (after h=1), then a new one
        assert client.seen == ["a", "hold 1", "b", "c"]
        assert client.h == 4

    run(test)


def test_stanzas_before_stream_management_is_on_are_not_counted():
    def test(client: Client) -> None:
        client.plugin["xep_0198"].enabled_in = False
        client.deliver("hold 1")
        assert client.h == 0 and client.acks.unfinished == 0

    run(test)


class Sender(Client):
    """Stream management on in both directions; what would go on the wire is recorded."""

    def __init__(self) -> None:
        super().__init__()
        keep_sent_as_text(self)
        self.plugin["xep_0198"].enabled_out = True  # as after <enabled/>
        self._session_started = True  # slixmpp holds back stanzas before the session starts
        self.wire: list[str] = []

    def send_raw(self, data) -> None:
        self.wire.append(data)

    async def flush(self) -> None:
        sending = asyncio.ensure_future(self.run_filters())
        await self.waiting_queue.join()
        sending.cancel()


def test_a_sent_message_awaits_its_acknowledgement_as_the_text_that_went_out():
    async def main() -> None:
        client = Sender()
        client.make_message(mto="alice@example.org/phone", mbody="Saved: 标题").send()
        await client.flush()
        assert len(client.wire) == 1 and "Saved: 标题" in client.wire[0]
        assert list(client.plugin["xep_0198"].unacked_queue) == [(1, client.wire[0])]

    asyncio.run(main())


def test_after_resuming_the_unacknowledged_text_is_sent_again():
    async def main() -> None:
        client = Sender()
        for body in ("first", "second"):
            client.make_message(mto="alice@example.org/phone", mbody=body).send()
        await client.flush()
        resumed = sm_stanza.Resumed(client)
        resumed["h"] = 1  # the server got the first one
        client.plugin["xep_0198"]._handle_resumed(resumed)
        await client.flush()
        assert client.wire[2:] == [client.wire[1]]  # the second, again, as it went out the first time

    asyncio.run(main())
