"""favsite.broker: Celery's Redis transport, building its synchronous client once per connection pool."""

from __future__ import annotations

import pytest
from kombu import Connection

from favsite.broker import Transport
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
