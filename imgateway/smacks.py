"""XEP-0198 acknowledgements that mean "done", not "arrived".

slixmpp's stream management plugin counts an incoming stanza as handled (the
``h`` of ``<a h="..."/>``) as soon as it is parsed. The server then drops it
from its queue of unacknowledged stanzas, so a message the gateway received
but had not saved yet died with the process. ``FinishedAcks`` takes over the
counting:

1. ``receive`` numbers each stanza the plugin would count (message, presence,
   iq, once stream management is on) and dispatches it to the handlers.
2. A handler that hands the stanza's work to somebody else (the database
   threads) calls ``hold()`` while it runs and the returned ``release`` when
   the work is finished (saved and committed, or answered). Every other
   stanza is finished when its handlers return.
3. ``h`` is the length of the longest run of finished stanzas from the start
   of the stream (XEP-0198 counts in order): one slow save holds back the
   ``h`` of the stanzas after it, never the other way round.
4. When a release moves ``h`` on, one unsolicited ``<a/>`` goes out (XEP-0198
   allows it at any time), so the server can forget those stanzas without
   waiting for its next ``<r/>``.
5. On resumption the server sends again everything after the ``h`` we gave
   in ``<resume/>``; stanzas we had already received then are dropped here
   (their first copy is still being worked on, or is done).

The other direction: slixmpp keeps every stanza it sent until the server
acknowledges it, to send it again after a resumption. A flood of messages
is answered with as many chat states and confirmations, and the server's
acknowledgements queue behind the messages it still holds for us (and are
not read at all while the gateway pauses reading), so thousands wait at
once. ``keep_sent_as_text`` keeps each as the text that went out (a few
hundred bytes) instead of the stanza object (about 4 KB with its element
tree and plugins): that was most of the gateway's memory after a flood of
10,000 messages (docs/PERFORMANCE.md, ingest).

What the server does with the stanzas we never acknowledged is its business:
Prosody (mod_smacks + mod_offline, 0.12) stores unacknowledged chat messages
in offline storage when the stream ends for good (our new session replacing
the dead one under the same resource, the hibernation timeout, a server
shutdown) and delivers them when the gateway is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from slixmpp import ClientXMPP
from slixmpp.plugins.xep_0198 import stanza as sm_stanza
from slixmpp.stanza import Iq, Message, Presence
from slixmpp.xmlstream import StanzaBase
from slixmpp.xmlstream.tostring import tostring

log = logging.getLogger(__name__)

MAX_SEQ = 2**32


def _nothing() -> None:
    return None


class FinishedAcks:
    """Counts stanzas as handled for XEP-0198 only once their work is finished."""

    def __init__(self, xmpp: ClientXMPP) -> None:
        self.xmpp = xmpp
        self.plugin = xmpp.plugin["xep_0198"]
        # The plugin's own counter counts on arrival: ours replaces it.
        xmpp.del_filter("in", self.plugin._handle_incoming)
        xmpp.add_filter("out_sync", self._watch_resume)
        xmpp.add_event_handler("sm_enabled", self._new_stream)
        xmpp.add_event_handler("session_end", self._new_stream)
        self._reset()

    def _reset(self) -> None:
        self.epoch = getattr(self, "epoch", 0) + 1  # releases from an older stream are ignored
        self.finished = 0  # h: stanzas 1..finished are all done
        self.received = 0  # the number of the last stanza received
        self.replay_until = 0  # after a resumption: stanzas up to this number are copies
        self.done: deque[bool] = deque()  # stanzas finished+1..received, done or not
        self.current: int | None = None  # the stanza being dispatched
        self.held: set[int] = set()
        self.ack_scheduled = False

    def _new_stream(self, _event: object) -> None:
        self._reset()
        self.plugin.handled = 0

    @property
    def unfinished(self) -> int:
        """Stanzas received and not yet finished (the server keeps them)."""
        return len(self.done)

    def receive(self, stanza: StanzaBase, dispatch: Callable[[StanzaBase], None]) -> None:
        """Number ``stanza``, dispatch it to the handlers, and finish it unless a handler held it."""
        if not self.plugin.enabled_in or not isinstance(stanza, (Message, Presence, Iq)):
            dispatch(stanza)
            return
        self.received += 1
        seq = self.received
        if seq <= self.replay_until:
            log.debug("stanza %d came again after resuming; dropped", seq)
            return
        self.done.append(False)
        self.current = seq
        try:
            dispatch(stanza)
        finally:
            self.current = None
            if seq not in self.held:
                self._finish(seq)

    def hold(self) -> Callable[[], None]:
        """Keep the stanza being dispatched unfinished until the returned function is called."""
        seq = self.current
        if seq is None:
            return _nothing  # stream management is off: nothing to hold back
        self.held.add(seq)
        epoch = self.epoch

        def release() -> None:
            if epoch != self.epoch or seq not in self.held:
                return  # a stream that is gone, or released already
            self.held.discard(seq)
            before = self.finished
            self._finish(seq)
            if self.finished != before:
                self._schedule_ack()

        return release

    def _finish(self, seq: int) -> None:
        self.done[seq - self.finished - 1] = True
        while self.done and self.done[0]:
            self.done.popleft()
            self.finished += 1
        self.plugin.handled = self.finished % MAX_SEQ

    def _schedule_ack(self) -> None:
        # Releases that land in one turn of the loop share one <a/>.
        if not self.ack_scheduled:
            self.ack_scheduled = True
            asyncio.get_running_loop().call_soon(self._send_ack)

    def _send_ack(self) -> None:
        self.ack_scheduled = False
        if self.plugin.enabled_in:
            self.plugin.send_ack()

    def _watch_resume(self, stanza: StanzaBase) -> StanzaBase:
        """The server resends what follows the ``h`` in our ``<resume/>``, numbered from there."""
        if isinstance(stanza, sm_stanza.Resume):
            # slixmpp fills in h when it reads the stream features, and send()
            # only queues the stanza: a save finishing in between has moved
            # ``finished`` on since. The server numbers its replays from the h
            # it reads here, so that is where our count starts again.
            self.replay_until = self.finished + len(self.done)
            self.received = int(stanza["h"] or 0)
        return stanza


def keep_sent_as_text(xmpp: ClientXMPP) -> None:
    """Keep sent stanzas awaiting the server's acknowledgement as their text, not as stanza objects.

    Runs as the last ``out_sync`` filter, right after the stream management
    plugin queued the stanza: it serialises the stanza as slixmpp would, puts
    the text in the plugin's queue in its place and hands the text on to be
    sent (slixmpp sends text as it is). A resumption sends the text again.
    """
    plugin = xmpp.plugin["xep_0198"]

    def as_text(stanza: StanzaBase) -> StanzaBase | str:
        queue = plugin.unacked_queue
        if not queue or queue[-1][1] is not stanza:
            return stanza  # not counted (stream management off, or not a message, presence or iq)
        text = tostring(stanza.xml, xmlns=xmpp.default_ns, stream=xmpp, top_level=True)
        queue[-1] = (queue[-1][0], text)
        return text

    xmpp.add_filter("out_sync", as_text)
