"""Retention enforced: what outlived its time is dropped, once a minute on the shared Timer.

* a subscription's unacknowledged messages, and its retained acknowledged ones
  (``retain_acked_messages``), older than its ``message_retention_duration`` (default 7 days);
* a topic's retained messages older than its ``message_retention_duration``;
* snapshots past their ``expire_time``.

Times are publish times (wall clock), as the real service measures retention. Google's shortest
retention is 10 minutes, so checking every minute keeps each expiry within 10% of its time.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("local.pubsub.retention")

EXPIRY_INTERVAL = 60.0


class Retention:
    def __init__(self, registry, snapshots, store, timer, interval: float = EXPIRY_INTERVAL):
        self._registry = registry
        self._snapshots = snapshots
        self._store = store
        self._timer = timer
        self._interval = interval
        self._stopped = False

    def start(self) -> None:
        self._timer.schedule(time.monotonic() + self._interval, self._on_timer)

    def stop(self) -> None:
        self._stopped = True

    def _on_timer(self, _now: float) -> float | None:
        if self._stopped:
            return None
        try:
            self.expire(time.time())
        except Exception:
            log.exception("expiring retained messages failed")
        return time.monotonic() + self._interval

    def expire(self, now: float) -> None:
        """Drops everything whose retention ended before epoch time ``now``."""
        for sub in self._registry.all_subscriptions():
            gone = sub.queue.expire(now)
            if gone:
                self._store.remove_messages([(sub.pb.name, seq) for seq in gone])
        for topic in self._registry.all_topics():
            retention = topic.retention
            with topic.publish_lock:
                old = [
                    seq
                    for seq, msg in topic.log.items()
                    if retention is None or msg.publish_time.seconds < now - retention
                ]
                for seq in old:
                    del topic.log[seq]
            if old:
                self._store.remove_kept([(topic.pb.name, seq) for seq in old])
        self._snapshots.expire(now)
