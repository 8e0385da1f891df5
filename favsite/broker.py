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
acknowledged message along with the record of the next one taken (``QoS``),
and takes the messages waiting behind the one its BRPOP received in the same
command (``Channel._brpop_read``).

Selected in settings through ``CELERY_BROKER_TRANSPORT`` for ``redis://`` and
``rediss://`` broker URLs; everything else about the transport is kombu's.
"""

from __future__ import annotations

import logging
import threading
from queue import Empty
from time import monotonic, time

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)


# The removals waiting (ARGV[5:]), one message recorded as taken (KEYS[1]:
# when, a sorted set; KEYS[2]: the message; ARGV: the time, its delivery tag,
# its record), and up to ARGV[4] more messages taken from the list KEYS[3] and
# recorded the same way, in one atomic command: a MULTI/EXEC pipeline of the
# four commands for one message cost 17% of a worker's time with the GIL in
# the ingest profile, most of it redis-py packing and parsing each command's
# reply. A message taken here is recorded in the same step, so no crash can
# lose it; one that is not kombu's JSON goes back where it was, for kombu's
# BRPOP to hand out as it would.
TAKE = """
if #ARGV > 4 then
    redis.call('ZREM', KEYS[1], unpack(ARGV, 5))
    redis.call('HDEL', KEYS[2], unpack(ARGV, 5))
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
local taken = {}
for i = 1, tonumber(ARGV[4]) do
    local item = redis.call('RPOP', KEYS[3])
    if not item then break end
    local ok, message = pcall(cjson.decode, item)
    local properties = ok and type(message) == 'table' and message['properties']
    local tag = type(properties) == 'table' and properties['delivery_tag']
    local info = tag and properties['delivery_info']
    if type(tag) ~= 'string' or type(info) ~= 'table' then
        redis.call('RPUSH', KEYS[3], item)
        break
    end
    local route = cjson.encode(info['exchange']) .. ',' .. cjson.encode(info['routing_key'])
    local record = '[' .. item .. ',' .. route .. ']'
    redis.call('ZADD', KEYS[1], ARGV[1], tag)
    redis.call('HSET', KEYS[2], tag, record)
    taken[i] = item
end
return taken
"""


def _record(text: str, delivery_info: dict) -> str:
    """What kombu records for a message taken, ``[message, exchange, routing key]``, around its JSON text."""
    return f"[{text},{dumps(delivery_info['exchange'])},{dumps(delivery_info['routing_key'])}]"


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
    worker) the removals wait and go in the one command (``TAKE``) that records the
    next messages taken, so a busy worker makes one round trip per batch of messages.
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
        self._recorded: set[str] = set()  # taken by ``take``, recorded before delivery

    @property
    def _deferred(self) -> bool:
        return self.channel.connection.on_event_loop

    def append(self, message, delivery_tag) -> None:
        if not self._deferred:
            super().append(message, delivery_tag)
            return
        if delivery_tag in self._recorded:
            self._recorded.discard(delivery_tag)
        else:
            delivery = message.delivery_info
            self._run_take(delivery_tag, _record(dumps(message._raw), delivery), "", 0)
        virtual.QoS.append(self, message, delivery_tag)

    def take(self, payload: dict, text: str, key: str, more: int) -> list[dict]:
        """Record ``payload`` (``text``), just received from the list ``key``, as taken, and take up to
        ``more`` messages after it from the same list: all of them, recorded in Redis when this returns
        (``append`` then records each in memory only)."""
        properties = payload["properties"]
        record = _record(text, properties["delivery_info"])
        taken = self._run_take(properties["delivery_tag"], record, key, more)
        payloads = [payload]
        for item in taken:
            try:
                payloads.append(loads(bytes_to_str(item)))
            except ValueError:  # Lua's JSON reader took it: left recorded, kombu restores it after the timeout
                log.warning("a message taken could not be read: %.200r", item, exc_info=True)
        self._recorded.update(each["properties"]["delivery_tag"] for each in payloads)
        return payloads

    def return_taken(self, key: str, payloads: list[dict]) -> None:
        """Put messages ``take`` took but that were never delivered back at the head of the list ``key``,
        in their order, as they were: not marked redelivered (no fetch of theirs ever ran)."""
        if not payloads:
            return
        tags = [payload["properties"]["delivery_tag"] for payload in payloads]
        self._recorded.difference_update(tags)
        with self.pipe_or_acquire() as pipe:
            pipe.zrem(self.unacked_index_key, *tags).hdel(self.unacked_key, *tags)
            pipe.rpush(key, *(dumps(payload) for payload in reversed(payloads))).execute()

    def _run_take(self, tag: str, record: str, key: str, more: int) -> list:
        to_remove = self._take_removals()
        try:
            with self.channel.conn_or_acquire() as client:
                prefix = self._own_prefix(client)
                return self._take_script(client)(
                    keys=[self.unacked_index_key, prefix + self.unacked_key, prefix + (key or self.unacked_key)],
                    args=[time(), tag, record, more, *to_remove],
                    client=client,
                )
        except Exception:
            self._give_back(to_remove)
            raise

    def _take_script(self, client):
        if self._script is None:
            self._script = client.register_script(TAKE)
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

    #: At most this many messages from one BRPOP's reply on an event loop: the one it received and those
    #: waiting behind it in the same list (``TAKE``), within the prefetch limit.
    take_at_most = 8

    def __init__(self, *args, **kwargs) -> None:
        self._no_ack_queues: set[str] = set()
        super().__init__(*args, **kwargs)

    def basic_consume(self, queue, *args, **kwargs):
        no_ack = kwargs.get("no_ack", args[0] if args else False)
        (self._no_ack_queues.add if no_ack else self._no_ack_queues.discard)(queue)
        return super().basic_consume(queue, *args, **kwargs)

    def _brpop_read(self, **options):
        """kombu's, but on an event loop the messages waiting behind the one received come with it.

        A worker's event loop handled each message with a BRPOP and then the
        command that records it: two round trips, and a turn of the loop
        that registers the BRPOP again, per message; in the ingest profile the
        loop's thread held the GIL for a third of the worker's time. Under
        load now one BRPOP and one ``TAKE`` bring up to ``take_at_most``
        messages; with nothing waiting, the same two commands bring one.
        Messages of a lower priority are in other lists, so a batch holds
        one priority only.
        """
        if not self.connection.on_event_loop:
            return super()._brpop_read(**options)
        try:
            try:
                key__item = self.client.parse_response(self.client.connection, "BRPOP", **options)
            except self.connection_errors:
                self.client.connection.disconnect()  # the next turn reconnects, as kombu's read does
                raise
            if not key__item:
                raise Empty()
            key, item = bytes_to_str(key__item[0]), bytes_to_str(key__item[1])
            queue = key.rsplit(self.sep, 1)[0]
            self._queue_cycle.rotate(queue)
            if queue in self._no_ack_queues:  # nothing to record: one message, as kombu delivers it
                self.connection._deliver(loads(item), queue)
                return True
            room = self.qos.can_consume_max_estimate()  # None: no prefetch limit
            limit = self.take_at_most if room is None else min(room, self.take_at_most)
            if "can_consume" in vars(self.qos):  # Celery's worker_disable_prefetch: it alone knows the pool's room
                limit = 1
            payloads = self.qos.take(loads(item), item, key, max(0, limit - 1))
            for position, payload in enumerate(payloads):
                try:
                    self.connection._deliver(payload, queue)
                except BaseException:
                    self._return_after_failure(key, payloads[position + 1 :])
                    raise
            return True
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()

    def _return_after_failure(self, key: str, payloads: list[dict]) -> None:
        # The delivery's error is what the caller sees; if Redis cannot take these back now either,
        # they are handed out again after the visibility timeout.
        try:
            self.qos.return_taken(key, payloads)
        except Exception:
            log.warning("could not give back %d messages taken together", len(payloads), exc_info=True)

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
