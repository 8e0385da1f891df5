"""favsite.broker: Celery's Redis transport, building its synchronous client once per connection pool and,
on a worker's event loop, writing each acknowledgement along with the next message taken."""

from __future__ import annotations

import itertools
import time
from types import MethodType

import pytest
from kombu import Connection
from kombu.asynchronous import Hub

from favsite.broker import QoS, Transport
from favsite.celery import app
from tests.fixtures.celery import CELERY_KEY_PREFIX


@pytest.fixture
def channel():
    with app.connection_for_write() as connection:
        channel = connection.channel()
        try:
            yield channel
        finally:
            channel.close()


def test_celery_uses_the_favsite_transport_for_redis_urls():
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)


def test_a_redis_url_keeps_its_address_and_tls_settings_with_the_favsite_transport():
    url = "rediss://:secret@redis.example:6380/2?ssl_cert_reqs=required"
    ours, kombus = Connection(url, transport="favsite.broker:Transport"), Connection(url)
    for name in ("hostname", "port", "password", "virtual_host", "ssl"):
        assert getattr(ours, name) == getattr(kombus, name), name


def test_the_channel_hands_out_one_client_for_its_synchronous_work(channel):
    assert channel._create_client() is channel._create_client()


def test_after_its_pools_are_dropped_the_channel_builds_a_client_on_the_new_pool(channel):
    before = channel._create_client()
    channel._disconnect_pools()
    after = channel._create_client()
    assert after is not before and after.connection_pool is channel.pool


def test_the_shared_client_works_and_keeps_the_key_prefix(channel):
    client = channel._create_client()
    client.set("broker-test-key", "1", ex=60)
    try:
        assert client.execute_command("EXISTS", f"{CELERY_KEY_PREFIX}broker-test-key") == 1
    finally:
        client.delete("broker-test-key")


def test_a_message_taken_with_late_ack_is_unacknowledged_until_acknowledged(channel):
    queue = f"broker-test-{id(channel)}"
    channel.queue_declare(queue=queue, auto_delete=False)
    try:
        channel.basic_publish(channel.prepare_message("hello"), exchange="", routing_key=queue)
        message = channel.basic_get(queue, no_ack=False)
        client = channel._create_client()
        assert client.hget(channel.unacked_key, message.delivery_tag) is not None
        message.ack()
        assert client.hget(channel.unacked_key, message.delivery_tag) is None
    finally:
        channel.queue_delete(queue)


_queues = itertools.count()


@pytest.fixture
def queue(channel):
    name = f"broker-test-{id(channel)}-{next(_queues)}"
    channel.queue_declare(queue=name, auto_delete=False)
    yield name
    channel.queue_delete(name)


@pytest.fixture
def loop(channel):
    """The channel's transport on an event loop, as in a worker; ``loop()`` runs what a turn runs before polling."""
    hub = Hub()
    channel.connection.register_with_event_loop(channel.connection, hub)
    yield lambda: [callback() for callback in list(hub.on_tick)]
    hub.close()


def publish(channel, queue: str, body: str) -> None:
    channel.basic_publish(channel.prepare_message(body), exchange="", routing_key=queue)


def recorded(channel, message) -> bool:
    """Whether kombu would hand the message out again if this worker died now."""
    client = channel._create_client()
    in_index = message.delivery_tag.encode() in client.zrange(channel.unacked_index_key, 0, -1)
    return in_index and client.hget(channel.unacked_key, message.delivery_tag) is not None


def test_on_an_event_loop_a_message_taken_is_recorded_at_once(channel, queue, loop):
    publish(channel, queue, "hello")
    message = channel.basic_get(queue, no_ack=False)
    assert recorded(channel, message)  # a worker killed now leaves it to be handed out again
    message.ack()


def test_on_an_event_loop_an_acknowledgement_is_written_with_the_next_message_taken(channel, queue, loop):
    publish(channel, queue, "one")
    publish(channel, queue, "two")
    first = channel.basic_get(queue, no_ack=False)
    first.ack()
    assert recorded(channel, first)
    second = channel.basic_get(queue, no_ack=False)
    assert not recorded(channel, first)
    assert recorded(channel, second)
    second.ack()


def test_an_acknowledgement_with_no_message_after_it_is_written_at_a_turn_of_the_loop(channel, queue, loop):
    publish(channel, queue, "last")
    message = channel.basic_get(queue, no_ack=False)
    message.ack()
    time.sleep(QoS.REMOVAL_DELAY)
    loop()
    assert not recorded(channel, message)


def test_a_message_taken_and_not_acknowledged_goes_back_to_the_queue_when_the_channel_closes(channel, queue, loop):
    publish(channel, queue, "taken")
    channel.basic_get(queue, no_ack=False)
    channel.qos.restore_unacked_once()  # what closing the channel does
    assert channel.basic_get(queue, no_ack=True).body == b"taken"


def test_an_acknowledgement_not_yet_written_keeps_its_message_from_coming_back_when_the_channel_closes(
    channel, queue, loop
):
    publish(channel, queue, "done")
    message = channel.basic_get(queue, no_ack=False)
    message.ack()
    channel.qos.restore_unacked_once()
    assert channel.basic_get(queue) is None
    assert not recorded(channel, message)


def test_a_reject_writes_the_acknowledgements_waiting_first(channel, queue, loop):
    publish(channel, queue, "done")
    publish(channel, queue, "refused")
    done = channel.basic_get(queue, no_ack=False)
    refused = channel.basic_get(queue, no_ack=False)
    done.ack()
    refused.reject(requeue=True)
    assert not recorded(channel, done)
    assert channel.basic_get(queue, no_ack=True).body == b"refused"


def test_a_closed_connection_leaves_the_event_loop():
    hub = Hub()
    with app.connection_for_write() as connection:
        connection.ensure_connection()
        transport = connection.transport
        transport.register_with_event_loop(connection.connection, hub)
        assert transport._write_acknowledgements in hub.on_tick
    assert transport._write_acknowledgements not in hub.on_tick  # a reconnection registers anew
    hub.close()


def consumed(channel, queue: str) -> list:
    """The messages the channel delivers from ``queue``, as a worker's consumer would get them."""
    got: list = []
    channel.basic_consume(queue, False, got.append, f"consumer-{queue}")
    return got


def read_once(channel) -> None:
    """One BRPOP sent and its reply read, as a turn of a worker's loop does when the socket is readable."""
    if getattr(channel.client, "connection", None) is None:  # kombu's poller gives the client its connection
        channel.client.connection = channel.client.connection_pool.get_connection()
    channel._brpop_start(timeout=1)
    channel._brpop_read()


def queued(channel, queue: str) -> int:
    return channel._create_client().llen(queue)


def test_on_an_event_loop_one_brpop_brings_the_messages_waiting_behind_the_first(channel, queue, loop):
    got = consumed(channel, queue)
    for body in ("one", "two", "three"):
        publish(channel, queue, body)
    read_once(channel)
    assert [message.body for message in got] == [b"one", b"two", b"three"]
    assert all(recorded(channel, message) for message in got)  # a worker killed now leaves them to be handed out
    assert queued(channel, queue) == 0


def test_one_read_takes_no_more_than_the_prefetch_limit_allows(channel, queue, loop):
    channel.basic_qos(prefetch_count=2)
    got = consumed(channel, queue)
    for number in range(5):
        publish(channel, queue, f"message {number}")
    read_once(channel)
    assert [message.body for message in got] == [b"message 0", b"message 1"]
    assert queued(channel, queue) == 3


def test_one_read_takes_at_most_its_batch(channel, queue, loop):
    got = consumed(channel, queue)
    for number in range(channel.take_at_most + 2):
        publish(channel, queue, f"message {number}")
    read_once(channel)
    assert len(got) == channel.take_at_most
    assert queued(channel, queue) == 2


def test_off_an_event_loop_one_read_takes_one_message(channel, queue):
    got = consumed(channel, queue)
    publish(channel, queue, "one")
    publish(channel, queue, "two")
    read_once(channel)
    assert [message.body for message in got] == [b"one"]


def test_an_acknowledgement_waiting_is_written_with_the_messages_taken_together(channel, queue, loop):
    got = consumed(channel, queue)
    publish(channel, queue, "first")
    read_once(channel)
    got[0].ack()
    publish(channel, queue, "second")
    publish(channel, queue, "third")
    read_once(channel)
    assert not recorded(channel, got[0])
    assert [message.body for message in got[1:]] == [b"second", b"third"]


def test_messages_taken_together_go_back_to_the_queue_when_the_channel_closes(channel, queue, loop):
    consumed(channel, queue)
    for body in ("one", "two", "three"):
        publish(channel, queue, body)
    read_once(channel)
    channel.qos.restore_unacked_once()  # what closing the channel does
    assert sorted(channel.basic_get(queue, no_ack=True).body for _ in range(3)) == [b"one", b"three", b"two"]


def test_a_message_that_is_not_kombus_json_stops_the_batch_and_stays_in_the_queue(channel, queue, loop):
    got = consumed(channel, queue)
    publish(channel, queue, "good")
    channel._create_client().lpush(queue, "not a message")
    read_once(channel)
    assert [message.body for message in got] == [b"good"]
    assert channel._create_client().execute_command("LRANGE", f"{CELERY_KEY_PREFIX}{queue}", 0, -1) == [
        b"not a message"
    ]


def test_messages_taken_after_one_whose_delivery_failed_go_back_first_in_order_and_not_as_redelivered(
    channel, queue, loop
):
    delivered = []

    def refuse_the_second(message) -> None:
        delivered.append(message)
        if len(delivered) == 2:
            raise RuntimeError("the consumer failed")

    channel.basic_consume(queue, False, refuse_the_second, f"consumer-{queue}")
    for body in ("one", "two", "three", "four"):
        publish(channel, queue, body)
    with pytest.raises(RuntimeError):
        read_once(channel)
    assert [message.body for message in delivered] == [b"one", b"two"]
    publish(channel, queue, "five")
    again = [channel.basic_get(queue, no_ack=True) for _ in range(3)]
    assert [message.body for message in again] == [b"three", b"four", b"five"]
    assert not any(message.delivery_info.get("redelivered") for message in again)  # no attempt of theirs ran


def test_a_read_takes_messages_of_one_priority_only(channel, queue, loop):
    got = consumed(channel, queue)
    for body, priority in (("first", 0), ("other priority", 9), ("second", 0)):
        channel.basic_publish(channel.prepare_message(body, priority=priority), exchange="", routing_key=queue)
    read_once(channel)
    assert len({message.properties["priority"] for message in got}) == 1
    read_once(channel)
    assert sorted(message.body for message in got) == [b"first", b"other priority", b"second"]


def test_a_consumer_without_acknowledgements_gets_one_message_per_read_and_nothing_is_recorded(channel, queue, loop):
    got: list = []
    channel.basic_consume(queue, True, got.append, f"consumer-{queue}")
    publish(channel, queue, "one")
    publish(channel, queue, "two")
    read_once(channel)
    assert [message.body for message in got] == [b"one"]
    assert not recorded(channel, got[0])


def test_with_celerys_prefetch_disabled_a_read_takes_one_message(channel, queue, loop):
    # worker_disable_prefetch replaces the QoS's can_consume with one that asks the pool for room.
    channel.qos.can_consume = MethodType(lambda qos: True, channel.qos)
    got = consumed(channel, queue)
    publish(channel, queue, "one")
    publish(channel, queue, "two")
    read_once(channel)
    assert [message.body for message in got] == [b"one"]
