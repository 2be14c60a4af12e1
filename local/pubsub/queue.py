"""One subscription's unacknowledged messages: leases, ack deadlines, ordering, backoff.

States of an :class:`Entry` (a message waiting in this subscription)::

    WAITING --(head of its ordering key)--> READY --lease--> LEASED --ack--> gone
                                              ^                 |
                                              +--- backoff -----+ nack / deadline passed
                                              DELAYED <---------+ (dead letter after N attempts)

* READY entries wait in ``_ready`` (FIFO; a nacked message goes back to the front).
* With message ordering, only the head of each ordering key is ever READY, LEASED or DELAYED:
  one outstanding message per key, so a nack or an expiry redelivers in order.
* A lease's ack id is ``<boot>-<n>``: unique across restarts, invalid once the lease ends.
* ``_heap`` holds lease deadlines and backoff ends; the shared :class:`Timer` calls
  :meth:`SubscriptionQueue.on_timer`, which acts only on what is really due.
* Flow control of a StreamingPull stream is a :class:`Holder`; leases count against it until
  they end, and waiters are woken when room appears.
* With ``retain_acked`` an acknowledged entry is kept (state ACKED, in ``_acked``) until its
  retention ends, so a Seek to a time can make it unacknowledged again; :meth:`expire` drops
  what is older than the subscription's ``message_retention_duration`` (leased entries wait for
  their lease to end first).
* :meth:`ack` and :meth:`modify` return the ack ids they could not apply (unknown, or the lease
  ended): exactly-once delivery reports those to the client, at-least-once ignores them.
* :meth:`reset` replaces the whole state at once (Seek).

One state machine under one lock, so it stays in one file (a little over 400 lines).
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from local.pubsub.flowcontrol import Holder

__all__ = ["Holder", "Policy", "SubscriptionQueue"]

WAITING, READY, LEASED, DELAYED, GONE, ACKED = range(6)
BOOT = os.urandom(4).hex()  # makes ack ids of this process unlike those of an earlier one


@dataclass(frozen=True)
class Policy:
    """The parts of a Subscription the queue acts on; replaced whole when it is updated."""

    name: str
    ack_deadline: float = 10.0
    ordering: bool = False
    backoff: tuple[float, float] | None = None  # (minimum, maximum) seconds, or immediate
    max_attempts: int | None = None  # dead-letter policy's max_delivery_attempts
    retain_acked: bool = False  # retain_acked_messages: acked entries kept for Seek
    retention: float = 7 * 86400.0  # message_retention_duration in seconds

    def delay(self, failures: int) -> float:
        """Wait before redelivering after ``failures`` failed deliveries: min * 2^(n-1), capped."""
        if self.backoff is None:
            return 0.0
        low, high = self.backoff
        return min(high, low * (2 ** max(0, failures - 1)))


class Entry:
    __slots__ = (
        "ack_id",
        "attempts",
        "deadline",
        "due",
        "holder",
        "key",
        "msg",
        "seq",
        "size",
        "state",
    )

    def __init__(self, seq: int, msg, size: int, key: str, attempts: int) -> None:
        self.seq = seq
        self.msg = msg  # google.pubsub.v1.PubsubMessage (shared by subscriptions, never mutated)
        self.size = size
        self.key = key  # ordering key when this subscription orders, else ""
        self.attempts = attempts
        self.state = WAITING
        self.ack_id: str | None = None
        self.deadline = 0.0
        self.due = 0.0
        self.holder: Holder | None = None


# A delivery: (ack id, message, delivery attempt as reported to the subscriber).
Delivery = tuple[str, object, int]
DeadLetterSink = Callable[[Policy, list[Entry]], None]


class SubscriptionQueue:
    def __init__(self, policy: Policy, timer, store, on_dead_letter: DeadLetterSink) -> None:
        self.policy = policy
        self._timer = timer
        self._store = store
        self._on_dead_letter = on_dead_letter
        # _lock protects every field below and the entries' mutable fields; _cond (on _lock) is
        # notified whenever an entry becomes READY, a holder gets room, or the queue closes.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._entries: dict[int, Entry] = {}
        self._ready: deque[Entry] = deque()
        self._by_ack: dict[str, Entry] = {}
        self._keys: dict[str, deque[Entry]] = {}
        self._heap: list[tuple[float, int, Entry]] = []
        self._ties = itertools.count()
        self._acks = itertools.count(1)
        self._timer_at = float("inf")
        self._acked: dict[int, Entry] = {}  # retained acknowledged entries (retain_acked)
        self.closed = False

    # -- configuration ------------------------------------------------------------------------

    def configure(self, policy: Policy) -> None:
        with self._cond:
            self.policy = policy
            self._cond.notify_all()

    def close(self) -> None:
        """Drops everything and wakes all waiters for good (deleted or detached subscription)."""
        with self._cond:
            self.closed = True
            self._entries.clear()
            self._ready.clear()
            self._by_ack.clear()
            self._keys.clear()
            self._heap.clear()
            self._acked.clear()
            self._cond.notify_all()

    def wake(self) -> None:
        """Wakes waiters so they can look at their own stop conditions."""
        with self._cond:
            self._cond.notify_all()

    def backlog(self) -> int:
        with self._lock:
            return len(self._entries)

    def unacked(self) -> list[tuple[int, object, int, str]]:
        """(seq, message, size, ordering key) of every unacknowledged entry, leased or not."""
        with self._lock:
            return [(e.seq, e.msg, e.size, e.msg.ordering_key) for e in self._sorted()]

    def retained(self) -> tuple[list, list]:
        """(unacknowledged, retained acknowledged) entries as (seq, message, size, key)."""
        with self._lock:
            acked = [self._acked[seq] for seq in sorted(self._acked)]
            return (
                [(e.seq, e.msg, e.size, e.msg.ordering_key) for e in self._sorted()],
                [(e.seq, e.msg, e.size, e.msg.ordering_key) for e in acked],
            )

    def oldest_publish_time(self) -> float | None:
        """Publish time (epoch seconds) of the oldest unacknowledged message, if any."""
        with self._lock:
            if not self._entries:
                return None
            return min(_published(e.msg) for e in self._entries.values())

    def reset(self, unacked: list, acked: list) -> None:
        """Replaces the whole state (Seek): ``unacked`` waits to be delivered, ``acked`` is kept
        as retained. Outstanding leases end without effect: their ack ids stop working."""
        with self._cond:
            if self.closed:
                return
            self._entries.clear()
            self._ready.clear()
            self._by_ack.clear()
            self._keys.clear()
            self._heap.clear()
            self._acked.clear()
            for seq, msg, size, _ in acked:
                entry = Entry(seq, msg, size, "", 0)
                entry.state = ACKED
                self._acked[seq] = entry
        self.add(unacked)

    def expire(self, now: float) -> list[int]:
        """Drops entries published more than the retention ago (epoch ``now``); returns seqs."""
        cutoff = now - self.policy.retention
        gone: list[int] = []
        with self._cond:
            for seq in [s for s, e in self._acked.items() if _published(e.msg) < cutoff]:
                del self._acked[seq]
                gone.append(seq)
            wake = False
            for entry in list(self._entries.values()):
                if entry.state != LEASED and _published(entry.msg) < cutoff:
                    wake |= self._drop(entry)
                    gone.append(entry.seq)
            if wake:
                self._cond.notify_all()
        return gone

    # -- messages in ----------------------------------------------------------------------------

    def add(self, items: list[tuple[int, object, int, str]], attempts: int = 0) -> None:
        """Adds (seq, message, size, ordering key) in order; ``attempts`` on restore only."""
        with self._cond:
            if self.closed:
                return
            ordering = self.policy.ordering
            for seq, msg, size, key in items:
                if seq in self._entries:
                    continue  # already waiting here (a Seek may offer it twice)
                self._acked.pop(seq, None)
                entry = Entry(seq, msg, size, key if ordering else "", attempts)
                self._entries[seq] = entry
                if entry.key:
                    line = self._keys.get(entry.key)
                    if line is None:
                        line = self._keys[entry.key] = deque()
                    line.append(entry)
                    if len(line) > 1:
                        continue  # waits behind the head of its key
                entry.state = READY
                self._ready.append(entry)
            self._cond.notify_all()

    # -- leasing --------------------------------------------------------------------------------

    def pull(
        self,
        max_messages: int,
        deadline: float | None = None,
        holder: Holder | None = None,
        timeout: float = 0.0,
        active: Callable[[], bool] | None = None,
    ) -> list[Delivery]:
        """Leases up to ``max_messages`` READY messages, waiting up to ``timeout`` for one.

        ``deadline`` is the lease length in seconds (default: the subscription's ack deadline).
        Returns [] on timeout, when ``active()`` turns false, or when the queue is closed.
        """
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                if self.closed or (active is not None and not active()):
                    return []
                n, nbytes = holder.room(max_messages) if holder else (max_messages, 0)
                if n > 0 and self._ready:
                    got = self._take(n, nbytes, deadline, holder)
                    if got:
                        return got
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(min(remaining, 1.0))

    def _take(self, n: int, nbytes: int, deadline: float | None, holder: Holder | None):
        now = time.monotonic()
        lease_for = self.policy.ack_deadline if deadline is None else deadline
        report = self.policy.max_attempts is not None
        sub = self.policy.name
        out: list[Delivery] = []
        taken = 0
        while self._ready and len(out) < n:
            entry = self._ready[0]
            if entry.state != READY:
                self._ready.popleft()
                continue
            if nbytes and out and taken + entry.size > nbytes:
                break
            self._ready.popleft()
            taken += entry.size
            entry.state = LEASED
            entry.attempts += 1
            entry.ack_id = ack_id = f"{BOOT}-{next(self._acks)}"
            entry.deadline = now + lease_for
            entry.holder = holder
            if holder is not None:
                holder.messages += 1
                holder.bytes += entry.size
            self._by_ack[ack_id] = entry
            self._push_heap(entry.deadline, entry)
            self._store.set_attempts(sub, entry.seq, entry.attempts)
            out.append((ack_id, entry.msg, entry.attempts if report else 0))
        return out

    # -- acks and deadlines ---------------------------------------------------------------------

    def ack(self, ack_ids: list[str]) -> list[str]:
        """Acknowledges; returns the ack ids that were unknown or whose lease had ended (the
        at-least-once service ignores those, exactly-once delivery reports them)."""
        invalid: list[str] = []
        with self._cond:
            gone = []
            wake = False
            retain = self.policy.retain_acked
            for ack_id in ack_ids:
                entry = self._by_ack.pop(ack_id, None)
                if entry is None or entry.state != LEASED:
                    invalid.append(ack_id)
                    continue
                wake |= self._release(entry)
                wake |= self._remove(entry)
                if retain:
                    entry.state = ACKED
                    entry.ack_id = None
                    self._acked[entry.seq] = entry
                gone.append((self.policy.name, entry.seq))
            if gone:
                if retain:
                    self._store.set_acked(gone)
                else:
                    self._store.remove_messages(gone)
            if wake:  # a holder has room again, or the next message of a key is READY
                self._cond.notify_all()
        return invalid

    def modify(self, ack_ids: list[str], seconds: float) -> list[str]:
        """Sets the lease of each ack id to end ``seconds`` from now; 0 is a nack. Returns the
        ack ids that were unknown or whose lease had ended."""
        dead: list[Entry] = []
        invalid: list[str] = []
        with self._cond:
            now = time.monotonic()
            for ack_id in ack_ids:
                entry = self._by_ack.get(ack_id)
                if entry is None or entry.state != LEASED:
                    invalid.append(ack_id)
                    continue
                if seconds <= 0:
                    self._fail(entry, now, dead)
                else:
                    entry.deadline = now + seconds
                    self._push_heap(entry.deadline, entry)
            self._cond.notify_all()
        if dead:
            self._on_dead_letter(self.policy, dead)
        return invalid

    def on_timer(self, now: float) -> float | None:
        """Ends the leases whose deadline passed and the backoffs that are over."""
        dead: list[Entry] = []
        with self._cond:
            woke = False
            while self._heap and self._heap[0][0] <= now:
                _, _, entry = heapq.heappop(self._heap)
                if entry.state == LEASED and entry.deadline <= now:
                    self._fail(entry, now, dead)
                    woke = True
                elif entry.state == DELAYED and entry.due <= now:
                    entry.state = READY
                    self._ready.appendleft(entry)
                    woke = True
            self._timer_at = self._heap[0][0] if self._heap else float("inf")
            if woke:
                self._cond.notify_all()
            again = None if not self._heap else self._heap[0][0]
        if dead:
            self._on_dead_letter(self.policy, dead)
        return again

    # -- internals (hold _lock) -----------------------------------------------------------------

    def _push_heap(self, when: float, entry: Entry) -> None:
        heapq.heappush(self._heap, (when, next(self._ties), entry))
        if when < self._timer_at:
            self._timer_at = when
            self._timer.schedule(when, self.on_timer)

    def _release(self, entry: Entry) -> bool:
        """Gives the entry's flow control back to its holder; True if there was one."""
        holder, entry.holder = entry.holder, None
        if holder is None:
            return False
        holder.messages -= 1
        holder.bytes -= entry.size
        return True

    def _fail(self, entry: Entry, now: float, dead: list[Entry]) -> None:
        """A delivery failed (nack or deadline): dead-letter, back off, or make READY again."""
        self._release(entry)
        self._by_ack.pop(entry.ack_id or "", None)
        entry.ack_id = None
        policy = self.policy
        if policy.max_attempts is not None and entry.attempts >= policy.max_attempts:
            self._remove(entry)
            self._store.remove_message(policy.name, entry.seq)
            dead.append(entry)
            return
        delay = policy.delay(entry.attempts)
        if delay > 0:
            entry.state = DELAYED
            entry.due = now + delay
            self._push_heap(entry.due, entry)
        else:
            entry.state = READY
            self._ready.appendleft(entry)

    def _sorted(self) -> list[Entry]:
        return [self._entries[seq] for seq in sorted(self._entries)]

    def _drop(self, entry: Entry) -> bool:
        """Forgets an entry that is not leased, wherever it waits; True if a key head moved."""
        if entry.key:
            line = self._keys.get(entry.key)
            if line and line[0] is not entry and entry in line:
                line.remove(entry)
                entry.state = GONE
                self._entries.pop(entry.seq, None)
                return False
        return self._remove(entry)  # READY/DELAYED ones are skipped where they wait

    def _remove(self, entry: Entry) -> bool:
        """Forgets the entry; True if that made the next message of its ordering key READY."""
        entry.state = GONE
        self._entries.pop(entry.seq, None)
        if entry.key:
            line = self._keys.get(entry.key)
            if line and line[0] is entry:
                line.popleft()
                if line:
                    head = line[0]
                    head.state = READY
                    self._ready.append(head)
                    return True
                del self._keys[entry.key]
        return False


def _published(msg) -> float:
    return msg.publish_time.seconds + msg.publish_time.nanos / 1e9
