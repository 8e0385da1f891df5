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

Selected in settings through ``CELERY_BROKER_TRANSPORT`` for ``redis://`` and
``rediss://`` broker URLs; everything else about the transport is kombu's.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
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
