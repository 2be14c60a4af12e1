"""Collaborators on their own, with real parts: queue, envelope, names, store, pusher timeout."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest

from local.pubsub import envelope, names, protos
from local.pubsub.errors import ApiError
from local.pubsub.pusher import Pusher
from local.pubsub.queue import Holder, Policy, SubscriptionQueue
from local.pubsub.store import SqliteStore
from local.pubsub.timer import Timer


class NullStore:
    durable = False

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


@pytest.fixture
def timer():
    t = Timer()
    t.start()
    yield t
    t.stop()


def _msg(i: int, key: str = "", **attrs):
    m = protos.PubsubMessage(data=b"%d" % i, message_id=str(i), ordering_key=key, attributes=attrs)
    m.publish_time.GetCurrentTime()
    return m


def _queue(timer, dead=None, **policy):
    sink = dead.extend if dead is not None else (lambda entries: None)
    return SubscriptionQueue(
        Policy(name="projects/p/subscriptions/sub", **policy),
        timer,
        NullStore(),
        lambda p, entries: sink(entries),
    )


def test_queue_leases_acks_and_redelivers(timer):
    q = _queue(timer)
    q.add([(i, _msg(i), 10, "") for i in range(1, 4)])
    got = q.pull(10)
    assert [m.message_id for _, m, _ in got] == ["1", "2", "3"]
    assert q.pull(10) == []
    q.ack([got[0][0]])
    q.modify([got[1][0]], 0)
    again = q.pull(10)
    assert [m.message_id for _, m, _ in again] == ["2"]
    assert q.backlog() == 2


def test_queue_holder_limits_messages_and_bytes(timer):
    q = _queue(timer)
    q.add([(i, _msg(i), 100, "") for i in range(1, 6)])
    holder = Holder(max_messages=2)
    first = q.pull(10, holder=holder)
    assert len(first) == 2
    assert q.pull(10, holder=holder) == []
    q.ack([first[0][0]])
    assert len(q.pull(10, holder=holder)) == 1
    by_bytes = Holder(max_bytes=250)
    assert len(q.pull(10, holder=by_bytes)) == 2  # 100 + 100 fit, the third would not


def test_queue_waiting_pull_wakes_on_publish(timer):
    q = _queue(timer)
    result = []
    thread = threading.Thread(target=lambda: result.extend(q.pull(1, timeout=5)))
    thread.start()
    time.sleep(0.05)
    started = time.monotonic()
    q.add([(1, _msg(1), 1, "")])
    thread.join(5)
    assert len(result) == 1
    assert time.monotonic() - started < 2.0  # woken by the publish, not by the 5 s timeout


def test_queue_ordering_and_dead_letter(timer):
    dead: list = []
    q = _queue(timer, dead, ordering=True, max_attempts=5)
    q.add([(1, _msg(1, "k"), 1, "k"), (2, _msg(2, "k"), 1, "k")])
    for attempt in range(1, 6):
        [(ack_id, m, reported)] = q.pull(10)
        assert (m.message_id, reported) == ("1", attempt)
        q.modify([ack_id], 0)
    assert [e.msg.message_id for e in dead] == ["1"]
    [(ack_id, m, reported)] = q.pull(10)  # the next of the key is released
    assert (m.message_id, reported) == ("2", 1)


def test_queue_lease_expiry_and_backoff(timer):
    q = _queue(timer, backoff=(0.2, 0.2))
    q.add([(1, _msg(1), 1, "")])
    [(ack_id, _, _)] = q.pull(1)
    q.modify([ack_id], 1)
    started = time.monotonic()
    assert len(q.pull(1, timeout=5)) == 1  # expiry at 1 s + backoff 0.2 s
    assert 1.1 < time.monotonic() - started < 1.6


def test_policy_backoff_doubles_and_caps():
    policy = Policy(name="x", backoff=(10.0, 600.0))
    assert [policy.delay(n) for n in (1, 2, 3, 6, 7, 20)] == [10, 20, 40, 320, 600, 600]
    assert Policy(name="x").delay(3) == 0


def test_envelope_wrapped_and_unwrapped():
    msg = _msg(7, "order-1", color="red", **{"Content-Length": "1", "bad name": "x"})
    push = protos.PushConfig(push_endpoint="http://x/")
    body, headers = envelope.build(push, msg, "projects/p/subscriptions/s", 0)
    data = json.loads(body)
    assert data["message"]["orderingKey"] == "order-1"
    assert base64.b64decode(data["message"]["data"]) == b"7"
    assert "deliveryAttempt" not in data
    assert headers["Content-Type"] == "application/json"
    push.no_wrapper.write_metadata = True
    body, headers = envelope.build(push, msg, "projects/p/subscriptions/s", 3)
    assert body == b"7"
    assert headers["x-goog-pubsub-ordering-key"] == "order-1"
    assert headers["color"] == "red"
    assert "Content-Length" not in headers
    assert "bad name" not in headers


def test_names():
    assert names.parse_topic("projects/p/topics/abc") == ("p", "abc")
    assert names.parse_subscription("projects/p/subscriptions/a%b") == ("p", "a%b")
    for bad in (
        "projects/p/topics/ab",
        "projects//topics/abc",
        "projects/p/topics/goog1",
        "projects/p/subscriptions/abc",
        "topics/abc",
        "",
    ):
        with pytest.raises(ApiError) as info:
            names.parse_topic(bad)
        assert info.value.status == "INVALID_ARGUMENT"


def test_store_round_trip(tmp_path):
    store = SqliteStore(str(tmp_path))
    snap = store.start()
    assert snap.next_id == 1
    assert not snap.topics
    store.put_topic("projects/p/topics/t", b"topic")
    store.put_subscription("projects/p/subscriptions/s", b"sub")
    store.add_messages(
        [("projects/p/subscriptions/s", 1, b"m1"), ("projects/p/subscriptions/s", 2, b"m2")],
        next_id=3,
    )
    store.set_attempts("projects/p/subscriptions/s", 2, 4)
    store.remove_message("projects/p/subscriptions/s", 1)
    store.add_messages([("projects/p/subscriptions/r", 3, b"m3")], next_id=4)
    store.set_acked([("projects/p/subscriptions/r", 3)])
    store.put_resource("schema", "projects/p/schemas/x", b"schema")
    store.put_resource("policy", "projects/p/topics/t", b"policy")
    store.delete_resource("policy", "projects/p/topics/t")
    store.add_kept([("projects/p/snapshots/n", 2, b"m2"), ("projects/p/topics/t", 3, b"m3")])
    store.remove_kept([("projects/p/topics/t", 3)])
    store.sync()
    store.stop()
    again = SqliteStore(str(tmp_path))
    snap = again.start()
    assert snap.topics == [("projects/p/topics/t", b"topic")]
    assert snap.messages == {
        "projects/p/subscriptions/s": [(2, b"m2", 4, False)],
        "projects/p/subscriptions/r": [(3, b"m3", 0, True)],  # retained, acknowledged
    }
    assert snap.resources == {"schema": [("projects/p/schemas/x", b"schema")]}
    assert snap.kept == {"projects/p/snapshots/n": [(2, b"m2")]}
    assert snap.next_id == 4
    again.stop()


def test_store_opens_a_data_dir_from_before_retained_acks(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "pubsub.sqlite3")
    db.execute(
        "CREATE TABLE messages (sub TEXT NOT NULL, seq INTEGER NOT NULL, pb BLOB NOT NULL,"
        " attempts INTEGER NOT NULL, PRIMARY KEY (sub, seq)) WITHOUT ROWID"
    )
    db.execute("INSERT INTO messages VALUES ('projects/p/subscriptions/s', 7, x'00', 1)")
    db.commit()
    db.close()
    store = SqliteStore(str(tmp_path))
    assert store.start().messages == {"projects/p/subscriptions/s": [(7, b"\x00", 1, False)]}
    store.stop()


def test_push_times_out_at_the_ack_deadline(timer, push_endpoint):
    """The request gives up at the subscription's ack deadline (1 s here; the API's minimum is
    10 s, so this builds the subscription without the API's checks)."""
    path = "/slow-unit"
    first = threading.Event()

    def slow_once(record):
        if not first.is_set():
            first.set()
            time.sleep(2.5)
        return 204

    push_endpoint.respond(path, slow_once)
    pb = protos.Subscription(name="projects/p/subscriptions/unit", ack_deadline_seconds=1)
    pb.push_config.push_endpoint = push_endpoint.url(path)
    q = _queue(timer, backoff=(0.05, 0.05))

    class Sub:
        pass

    sub = Sub()
    sub.pb, sub.queue = pb, q
    pusher = Pusher(sub, signer=None, concurrency=1)
    pusher.start()
    try:
        q.add([(1, _msg(1), 1, "")])
        records = push_endpoint.wait_for(path, 2, timeout=5)
        gap = records[1]["time"] - records[0]["time"]
        assert 1.0 <= gap < 1.6, gap  # timeout 1 s + backoff 0.05 s, not the 2.5 s answer
        end = time.monotonic() + 5
        while q.backlog() and time.monotonic() < end:
            time.sleep(0.02)
        assert q.backlog() == 0
    finally:
        pusher.stop()


def test_push_window_slow_start_and_shrink():
    from local.pubsub.pushwindow import PushWindow

    window = PushWindow(ceiling=8, backoff=(0.1, 60.0))
    assert window.size == 3  # a small single-digit window to begin with
    active = lambda: True  # noqa: E731
    for _ in range(3):
        assert window.acquire(active, timeout=0.01)
    assert not window.acquire(active, timeout=0.01)  # full
    for _ in range(3):
        window.release(True)
    assert window.size == 6  # one more per success: it doubles each round trip
    for _ in range(4):
        assert window.acquire(active, timeout=0.01)
        window.release(True)
    assert window.size == 8  # the ceiling
    assert window.acquire(active, timeout=0.01)
    window.release(False)
    assert window.size == 4  # halved on a failure
    for _ in range(5):
        assert window.acquire(active, timeout=0.01)
        window.release(False)
    assert window.size == 1  # never below one
    assert not window.paused()  # failures without pause=True (a retry policy) do not pause


def test_push_window_pause_doubles_and_ends_with_a_success():
    from local.pubsub.pushwindow import PushWindow

    window = PushWindow(ceiling=4, backoff=(0.1, 0.3))
    spans = []
    for _ in range(4):
        assert window.acquire(lambda: True, timeout=1.0)
        before = time.monotonic()
        window.release(False, pause=True)
        spans.append(window.paused_until - before)
    assert [round(s, 2) for s in spans] == [0.1, 0.2, 0.3, 0.3]  # 100 ms doubling, capped
    started = time.monotonic()
    assert window.acquire(lambda: True, timeout=2.0)  # waits for the pause to end
    assert time.monotonic() - started >= 0.25
    window.release(True)
    assert window.acquire(lambda: True, timeout=0.01)
    window.release(False, pause=True)
    assert round(window.paused_until - time.monotonic(), 1) == 0.1  # the streak started over


def _old_msg(i: int, age: float):
    m = _msg(i)
    m.publish_time.FromNanoseconds(int((time.time() - age) * 1e9))
    return m


def test_queue_retention_expires_backlog_and_retained_acks(timer):
    q = _queue(timer, retain_acked=True, retention=600.0)
    q.add([(1, _old_msg(1, 900), 10, ""), (2, _old_msg(2, 900), 10, ""), (3, _msg(3), 10, "")])
    leased = q.pull(1)  # message 1, leased: it waits for its lease to end before expiring
    assert len(leased) == 1
    [(ack_2, _, _)] = q.pull(1)
    assert q.ack([ack_2]) == []
    assert [s for s, *_ in q.retained()[1]] == [2]  # acked, but retained for Seek
    assert sorted(q.expire(time.time())) == [2]  # the old retained ack; 1 is leased
    assert q.retained() == ([(1, leased[0][1], 10, ""), (3, q.unacked()[1][1], 10, "")], [])
    q.modify([leased[0][0]], 0)
    assert q.expire(time.time()) == [1]
    assert [s for s, *_ in q.unacked()] == [3]


def test_queue_reset_replaces_the_state_and_ends_leases(timer):
    q = _queue(timer, ordering=True)
    q.add([(1, _msg(1, "k"), 10, "k"), (2, _msg(2, "k"), 10, "k")])
    [(ack_id, _, _)] = q.pull(10)
    q.reset([(5, _msg(5, "k"), 10, "k"), (6, _msg(6, "k"), 10, "k")], [(1, _msg(1), 10, "")])
    assert q.ack([ack_id]) == [ack_id]  # the old lease ended: its ack id fails
    [(first, m, _)] = q.pull(10)  # ordering still holds: one at a time per key
    assert m.message_id == "5"
    assert q.ack([first]) == []
    assert [m.message_id for _, m, _ in q.pull(10)] == ["6"]


def test_registry_expiry_drops_old_messages_topic_logs_and_snapshots(clients_for):
    from local.pubsub import Emulator

    with Emulator("127.0.0.1", 0) as emulator:
        publisher, subscriber = clients_for(emulator.target)
        topic, sub = "projects/exp/topics/orders", "projects/exp/subscriptions/orders"
        snapshot = "projects/exp/snapshots/orders"
        publisher.create_topic(
            request={"name": topic, "message_retention_duration": {"seconds": 600}}
        )
        subscriber.create_subscription(name=sub, topic=topic)
        publisher.publish(topic, b"x").result(timeout=10)
        subscriber.create_snapshot(name=snapshot, subscription=sub)
        assert len(emulator.registry.topic(topic).log) == 1
        emulator.retention.expire(time.time() + 3600)  # an hour on: the backlog (7 days) stays
        assert emulator.registry.stats()[sub]["backlog"] == 1
        assert emulator.registry.topic(topic).log == {}  # past the topic's 10 minutes
        emulator.retention.expire(time.time() + 8 * 86400)
        assert emulator.registry.stats()[sub]["backlog"] == 0
        with pytest.raises(Exception, match="not found"):
            subscriber.get_snapshot(snapshot=snapshot)
        publisher.stop()
        subscriber.close()
