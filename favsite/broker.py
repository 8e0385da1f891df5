"""Celery's Redis transport, with one synchronous Redis client per channel.

kombu's Redis channel builds a new ``redis.Redis`` client object for every
synchronous operation it performs: twice per task with late acknowledgement
(recording the message as unacknowledged when it arrives, removing it when it
is acknowledged), plus publishes and restores. The connections come from a
shared pool either way; what is rebuilt each time is the client object, whose
constructor fills a case-insensitive table of some 200 response callbacks. In
a profile of a worker fetching pages from loopback that construction was
about 9% of the time the worker held the GIL (docs/PERFORMANCE.md, page
metadata throughput). A ``redis.Redis`` client is safe to share between
threads (each command checks a connection out of the pool), so this channel
builds it once per connection pool and hands out the same object.

On a worker's event loop, the channel also writes the removal of each
acknowledged message along with the record of the next one taken (``QoS``).

Selected in settings through ``CELERY_BROKER_TRANSPORT`` for ``redis://`` and
``rediss://`` broker URLs; everything else about the transport is kombu's.
"""

from __future__ import annotations

import logging
import threading
from time import monotonic, time

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.json import dumps

log = logging.getLogger(__name__)


# One message recorded as taken (KEYS[1]: when, a sorted set; KEYS[2]: the
# message; ARGV: its delivery tag, the time, the record) and the removals
# waiting (ARGV[4:]), in one atomic command: a MULTI/EXEC pipeline of the same
# four commands cost 17% of a worker's time with the GIL in the ingest
# profile, most of it redis-py packing and parsing each command's reply.
RECORD_AND_REMOVE = """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if #ARGV > 3 then
    redis.call('ZREM', KEYS[1], unpack(ARGV, 4))
    redis.call('HDEL', KEYS[2], unpack(ARGV, 4))
end
"""


class QoS(kombu_redis.QoS):
    """kombu's acknowledgement emulation for Redis, with each acknowledgement written along with the next message.

    With late acknowledgement kombu records each message a worker takes in
    two Redis keys (the message, and when it was taken), so that it can be
    handed out again if the worker dies with it, and removes it when the
    task acknowledges it: a MULTI/EXEC round trip for each, both made by the
    worker's one event-loop thread. In a profile of the chat ingest
    benchmark they were 30% of a worker's time with the GIL
    (docs/PERFORMANCE.md, ingest).

    On an event loop (``Transport.register_with_event_loop``: a Celery
    worker) the removals wait and go in the one command (``RECORD_AND_REMOVE``) that records the
    next message taken, so a busy worker makes one round trip per message.
    A worker with nothing more to take writes them at the first turn of its
    loop after the oldest has waited ``REMOVAL_DELAY`` seconds: when idle,
    within about a second (the loop turns when kombu's BRPOP times out).
    A reject and giving unacknowledged messages back (the channel closing)
    write them first. A record is never delayed: a worker killed after
    taking a message must leave it to be handed out again, and the solo pool
    runs the task before the loop turns. A message whose removal is still
    waiting when a worker dies, or when some worker's periodic sweep finds
    it older than the visibility timeout, is handed out again; a finished
    fetch skips it. Off an event loop the writes are kombu's.
    """

    REMOVAL_DELAY = 0.05

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._to_remove: list[str] = []
        self._oldest_removal = 0.0
        self._script = None

    @property
    def _deferred(self) -> bool:
        return self.channel.connection.on_event_loop

    def append(self, message, delivery_tag) -> None:
        if not self._deferred:
            super().append(message, delivery_tag)
            return
        delivery = message.delivery_info
        record = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
        to_remove = self._take_removals()
        try:
            with self.channel.conn_or_acquire() as client:
                self._record_script(client)(
                    keys=[self.unacked_index_key, self._own_prefix(client) + self.unacked_key],
                    args=[delivery_tag, time(), record, *to_remove],
                    client=client,
                )
        except Exception:
            self._give_back(to_remove)
            raise
        virtual.QoS.append(self, message, delivery_tag)

    def _record_script(self, client):
        if self._script is None:
            self._script = client.register_script(RECORD_AND_REMOVE)
        return self._script

    @staticmethod
    def _own_prefix(client) -> str:
        # kombu's prefixing client (``CELERY_KEY_PREFIX``) prefixes only the first key of an EVALSHA.
        return getattr(client, "global_keyprefix", "")

    def ack(self, delivery_tag) -> None:
        if not self._deferred:
            super().ack(delivery_tag)
            return
        with self._lock:
            if not self._to_remove:
                self._oldest_removal = monotonic()
            self._to_remove.append(delivery_tag)
        virtual.QoS.ack(self, delivery_tag)

    def reject(self, delivery_tag, requeue: bool = False) -> None:
        self.write_removals()
        super().reject(delivery_tag, requeue=requeue)

    def restore_unacked(self, client=None) -> None:
        self._write_removals_before_restoring()
        super().restore_unacked(client)

    def restore_unacked_once(self, stderr=None) -> None:  # closing the channel
        self._write_removals_before_restoring()
        super().restore_unacked_once(stderr)

    def _write_removals_before_restoring(self) -> None:
        # kombu's restore goes on whatever happens (a channel closing must
        # close): with Redis unreachable, what waits is handed out again later.
        try:
            self.write_removals()
        except Exception:
            log.warning("could not write %d acknowledgements before restoring", len(self._to_remove), exc_info=True)

    def write_removals(self, *, waited: float = 0.0) -> None:
        """Write the removals waiting, if the oldest has waited ``waited`` seconds."""
        if self._to_remove and monotonic() - self._oldest_removal >= waited:
            with self.pipe_or_acquire() as pipe:
                self._write_removals(pipe)

    def _write_removals(self, pipe) -> None:
        """Add the removals waiting to ``pipe`` and execute it; kept for the next try if that fails."""
        to_remove = self._take_removals()
        if to_remove:
            pipe.zrem(self.unacked_index_key, *to_remove).hdel(self.unacked_key, *to_remove)
        try:
            pipe.execute()
        except Exception:
            self._give_back(to_remove)
            raise

    def _take_removals(self) -> list[str]:
        with self._lock:
            to_remove, self._to_remove = self._to_remove, []
        return to_remove

    def _give_back(self, to_remove: list[str]) -> None:
        """Keep removals whose write failed for the next try (kombu reconnects after a connection error)."""
        if to_remove:
            with self._lock:
                self._to_remove[:0] = to_remove


class Channel(kombu_redis.Channel):
    QoS = QoS
    _sync_client = None

    def _create_client(self, asynchronous: bool = False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._sync_client
        # After a connection error kombu drops its pools and builds new ones on demand.
        if client is None or client.connection_pool is not self.pool:
            client = self._sync_client = super()._create_client()
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel
    on_event_loop = False
    _loop = None

    def register_with_event_loop(self, connection, loop) -> None:
        super().register_with_event_loop(connection, loop)
        self.on_event_loop = True
        self._loop = loop
        loop.on_tick.add(self._write_acknowledgements)

    def close_connection(self, connection) -> None:
        super().close_connection(connection)  # its channels write what waits as they close
        if self._loop is not None:  # a reconnection registers the new transport
            self._loop.on_tick.discard(self._write_acknowledgements)
            self._loop = None

    def _write_acknowledgements(self) -> None:
        for channel in self.channels:
            if channel._qos is not None:
                channel._qos.write_removals(waited=QoS.REMOVAL_DELAY)
