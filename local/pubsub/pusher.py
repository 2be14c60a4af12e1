"""Push delivery for one subscription: a few workers, each POSTing one message at a time.

Each worker takes a slot of the subscription's :class:`PushWindow`, leases one message, POSTs
it over its own kept-alive HTTP/1.1 connection and acks on 102/200/201/202/204; any other
status, a connection error or no answer within the subscription's ack deadline is a failure,
which nacks the message: with a retry policy, the policy's backoff decides when it comes back;
without one it is ready again at once and the window pauses the whole subscription's pushing
(Google's push backoff, 100 ms to 60 s). Workers belong to one subscription, so an endpoint
that never answers holds only its own subscription's workers.

Concurrency adapts to the endpoint as Google's does: the window grows while pushes succeed and
shrinks on failures, between one and ``--push-concurrency`` (default 8) requests in flight.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

from local.pubsub import envelope
from local.pubsub.http1 import HttpConnection, StaleConnection
from local.pubsub.pushwindow import PushWindow

log = logging.getLogger("local.pubsub.push")

# The lease of a message being pushed outlives the request's own timeout (the ack deadline) by
# this much, so the worker, not the lease timer, decides the outcome.
LEASE_GRACE = 5.0


class Pusher:
    def __init__(
        self, sub, signer, concurrency: int = 8, backoff: tuple[float, float] = (0.1, 60.0)
    ) -> None:
        self._sub = sub  # registry.Sub: reads sub.pb (swapped whole on update) and sub.queue
        self._signer = signer
        self._concurrency = max(1, concurrency)
        self.window = PushWindow(self._concurrency, backoff)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        short = self._sub.pb.name.rsplit("/", 1)[-1]
        for i in range(self._concurrency):
            thread = threading.Thread(
                target=self._work, name=f"pubsub-push-{short}-{i}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Asks the workers to stop; a worker inside a request finishes it first."""
        self._stop.set()
        self._sub.queue.wake()
        self.window.wake()

    def _active(self) -> bool:
        return not self._stop.is_set()

    def _unpaused(self) -> bool:
        return not self._stop.is_set() and not self.window.paused()

    def _work(self) -> None:
        conns: dict[tuple[str, str], HttpConnection] = {}
        queue = self._sub.queue
        try:
            while not self._stop.is_set():
                if not self.window.acquire(self._active):
                    continue
                deadline = self._sub.pb.ack_deadline_seconds + LEASE_GRACE
                # A worker waiting here holds a slot: a pause that begins meanwhile must stop
                # it too, hence the window in ``active``.
                got = queue.pull(1, deadline=deadline, timeout=1.0, active=self._unpaused)
                if not got:
                    self.window.release(None)
                    continue
                [(ack_id, msg, attempt)] = got
                try:
                    delivered = self._deliver(conns, msg, attempt)
                except Exception:
                    log.exception("push of message %s failed", msg.message_id)
                    delivered = False
                # Google's push backoff applies when no retry policy spaces the redeliveries.
                # The pause starts before the nack makes the message ready again.
                pause = not self._sub.pb.HasField("retry_policy")
                self.window.release(delivered, pause=pause)
                if delivered:
                    queue.ack([ack_id])
                else:
                    queue.modify([ack_id], 0)
        finally:
            for conn in conns.values():
                conn.close()

    def _deliver(self, conns: dict, msg, attempt: int) -> bool:
        pb = self._sub.pb
        push = pb.push_config
        if not push.push_endpoint:
            return False
        timeout = float(pb.ack_deadline_seconds)
        body, headers = envelope.build(push, msg, pb.name, attempt)
        if push.HasField("oidc_token"):
            audience = push.oidc_token.audience or push.push_endpoint
            token = self._signer.token(push.oidc_token.service_account_email, audience)
            headers["Authorization"] = f"Bearer {token}"
        url = urlsplit(push.push_endpoint)
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        key = (url.scheme, url.netloc)
        for _ in range(2):
            conn = conns.get(key)
            if conn is None:
                conn = conns[key] = HttpConnection(url.scheme, url.hostname or "", url.port)
            try:
                status = conn.post(target, headers, body, timeout)
            except StaleConnection:
                continue  # the server closed a kept-alive connection: once more on a new one
            except (OSError, ValueError) as exc:
                log.info(
                    "push of message %s to %s failed: %r", msg.message_id, push.push_endpoint, exc
                )
                return False
            if status in envelope.SUCCESS:
                return True
            log.info(
                "push of message %s to %s answered %d", msg.message_id, push.push_endpoint, status
            )
            return False
        return False
