"""The in-process API: Emulator(host, port, data_dir).start() / .stop()."""

from __future__ import annotations

import urllib.request

from local.pubsub import Emulator


def test_in_process_start_publish_pull_restart(tmp_path, clients_for):
    data_dir = str(tmp_path / "state")
    topic, sub = "projects/inproc/topics/events", "projects/inproc/subscriptions/events"
    with Emulator("127.0.0.1", 0, data_dir) as emulator:
        assert emulator.port > 0
        assert emulator.started_at < 1.0
        publisher, subscriber = clients_for(emulator.target)
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic)
        publisher.publish(topic, b"kept", source="inproc").result(timeout=10)
        with urllib.request.urlopen(f"http://{emulator.target}/", timeout=5) as response:
            assert response.status == 200
        publisher.stop()
        subscriber.close()

    emulator = Emulator("127.0.0.1", 0, data_dir).start()
    try:
        _, subscriber = clients_for(emulator.target)
        response = subscriber.pull(subscription=sub, max_messages=5, timeout=10)
        [received] = response.received_messages
        assert received.message.data == b"kept"
        assert received.message.attributes == {"source": "inproc"}
        subscriber.acknowledge(subscription=sub, ack_ids=[received.ack_id])
        subscriber.close()
    finally:
        emulator.stop()


def test_two_in_memory_emulators_side_by_side(clients_for):
    first = Emulator("127.0.0.1", 0).start()
    second = Emulator("127.0.0.1", 0).start()
    try:
        pub1, _ = clients_for(first.target)
        pub2, _ = clients_for(second.target)
        pub1.create_topic(name="projects/a/topics/only-in-first")
        names = [t.name for t in pub2.list_topics(project="projects/a")]
        assert names == []
    finally:
        first.stop()
        second.stop()
