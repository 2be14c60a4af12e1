"""Push delivery to a real HTTP endpoint: envelopes, status codes, backoff, stalls, OIDC."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time

import google.auth.transport.requests
import pytest
from google.oauth2 import id_token
from google.protobuf import duration_pb2

FAST_RETRY = {
    "minimum_backoff": duration_pb2.Duration(nanos=100_000_000),
    "maximum_backoff": duration_pb2.Duration(nanos=400_000_000),
}


def _push_sub(publisher, subscriber, names, endpoint_url, suffix="s", topic=None, **fields):
    if topic is None:
        topic = names.topic(suffix)
        publisher.create_topic(name=topic)
    sub = names.sub(suffix)
    push = fields.pop("push_config", {})
    subscriber.create_subscription(
        request={
            "name": sub,
            "topic": topic,
            "push_config": {"push_endpoint": endpoint_url, **push},
            **fields,
        }
    )
    return topic, sub


def test_wrapped_envelope(publisher, subscriber, names, push_endpoint):
    path = f"/wrapped-{names.tag}"
    topic, sub = _push_sub(publisher, subscriber, names, push_endpoint.url(path))
    message_id = publisher.publish(topic, b"\x00\xffhello", color="red").result(timeout=10)
    [record] = push_endpoint.wait_for(path, 1)
    assert record["headers"]["Content-Type"] == "application/json"
    assert record["headers"]["User-Agent"].startswith("APIs-Google")
    body = json.loads(record["body"])
    assert set(body) == {"message", "subscription"}  # no deliveryAttempt without dead letters
    assert body["subscription"] == sub
    message = body["message"]
    assert set(message) == {
        "data",
        "attributes",
        "messageId",
        "message_id",
        "publishTime",
        "publish_time",
    }
    assert base64.b64decode(message["data"]) == b"\x00\xffhello"
    assert message["attributes"] == {"color": "red"}
    assert message["messageId"] == message["message_id"] == message_id
    assert message["publishTime"] == message["publish_time"]
    assert message["publishTime"].endswith("Z")
    time.sleep(0.2)
    assert len(push_endpoint.received(path)) == 1  # 204 acknowledged it


def test_wrapped_envelope_with_ordering_key_and_delivery_attempt(
    publisher, subscriber, names, push_endpoint, pubsub_emulator
):
    import grpc
    from google.cloud import pubsub_v1
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

    ordered = pubsub_v1.PublisherClient(
        publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True),
        transport=PublisherGrpcTransport(channel=grpc.insecure_channel(pubsub_emulator)),
    )
    dead = names.topic("dead")
    publisher.create_topic(name=dead)
    path = f"/ordered-{names.tag}"
    statuses = iter([500, 200])
    push_endpoint.respond(path, lambda r: next(statuses))
    topic, _ = _push_sub(
        publisher,
        subscriber,
        names,
        push_endpoint.url(path),
        enable_message_ordering=True,
        retry_policy=FAST_RETRY,
        dead_letter_policy={"dead_letter_topic": dead, "max_delivery_attempts": 5},
    )
    ordered.publish(topic, b"o", ordering_key="key-1").result(timeout=10)
    first, second = push_endpoint.wait_for(path, 2)
    for record, attempt in ((first, 1), (second, 2)):
        body = json.loads(record["body"])
        assert body["message"]["orderingKey"] == "key-1"
        assert body["deliveryAttempt"] == attempt
        assert "data" in body["message"]
        assert "attributes" not in body["message"]
    ordered.stop()


def test_unwrapped_with_metadata_is_binary_safe(publisher, subscriber, names, push_endpoint):
    path = f"/raw-{names.tag}"
    payload = bytes(range(256)) * 4
    topic, sub = _push_sub(
        publisher,
        subscriber,
        names,
        push_endpoint.url(path),
        push_config={"no_wrapper": {"write_metadata": True}},
    )
    message_id = publisher.publish(topic, payload, color="blue", **{"x-trace": "t1"}).result(10)
    [record] = push_endpoint.wait_for(path, 1)
    assert record["body"] == payload
    headers = {k.lower(): v for k, v in record["headers"].items()}
    assert headers["x-goog-pubsub-subscription-name"] == sub
    assert headers["x-goog-pubsub-message-id"] == message_id
    assert headers["x-goog-pubsub-publish-time"].endswith("Z")
    assert headers["color"] == "blue"
    assert headers["x-trace"] == "t1"


def test_unwrapped_without_metadata(publisher, subscriber, names, push_endpoint):
    path = f"/bare-{names.tag}"
    topic, _ = _push_sub(
        publisher,
        subscriber,
        names,
        push_endpoint.url(path),
        push_config={"no_wrapper": {"write_metadata": False}},
    )
    publisher.publish(topic, b"just data", color="blue").result(timeout=10)
    [record] = push_endpoint.wait_for(path, 1)
    assert record["body"] == b"just data"
    headers = {k.lower() for k in record["headers"]}
    assert not {h for h in headers if h.startswith("x-goog-pubsub")}
    assert "color" not in headers


def test_success_codes_acknowledge(publisher, subscriber, names, push_endpoint):
    topic = names.topic()
    publisher.create_topic(name=topic)
    paths = {}
    for status in (102, 200, 201, 202, 204):
        path = paths[status] = f"/ok-{status}-{names.tag}"
        push_endpoint.respond(path, lambda r, status=status: status)
        _push_sub(
            publisher,
            subscriber,
            names,
            push_endpoint.url(path),
            suffix=f"ok{status}",
            topic=topic,
            retry_policy=FAST_RETRY,
        )
    publisher.publish(topic, b"x").result(timeout=10)
    for path in paths.values():
        push_endpoint.wait_for(path, 1)
    time.sleep(0.4)
    assert {s: len(push_endpoint.received(p)) for s, p in paths.items()} == dict.fromkeys(paths, 1)


def test_failure_codes_are_retried_with_backoff(publisher, subscriber, names, push_endpoint):
    topic = names.topic()
    publisher.create_topic(name=topic)
    paths = {}
    for status in (301, 400, 403, 404, 429, 500, 503):
        path = paths[status] = f"/fail-{status}-{names.tag}"
        answers = iter([status, status, status])
        push_endpoint.respond(path, lambda r, answers=answers: next(answers, 204))
        _push_sub(
            publisher,
            subscriber,
            names,
            push_endpoint.url(path),
            suffix=f"f{status}",
            topic=topic,
            retry_policy=FAST_RETRY,
        )
    publisher.publish(topic, b"x").result(timeout=10)
    for status, path in paths.items():
        records = push_endpoint.wait_for(path, 4)
        gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(records)]
        # Backoff 0.1, 0.2, 0.4 s (min * 2^(n-1), capped at 0.4): never sooner. How much later
        # depends on the machine's load (56 push workers here), so only the floor is asserted;
        # the cap is timed, with wider backoffs, in test_pubsub_pull.
        for gap, want in zip(gaps, [0.1, 0.2, 0.4], strict=True):
            assert gap >= want - 0.02, (status, gaps)
    time.sleep(0.3)
    assert {s: len(push_endpoint.received(p)) for s, p in paths.items()} == dict.fromkeys(paths, 4)


def test_default_push_backoff_is_the_emulator_setting(publisher, subscriber, names, push_endpoint):
    # The fixture starts the emulator with --push-retry-min 0.05 --push-retry-max 0.2.
    path = f"/default-retry-{names.tag}"
    answers = iter([500, 500, 500, 204])
    push_endpoint.respond(path, lambda r: next(answers, 204))
    topic, _ = _push_sub(publisher, subscriber, names, push_endpoint.url(path))
    publisher.publish(topic, b"x").result(timeout=10)
    records = push_endpoint.wait_for(path, 4)
    assert records[-1]["time"] - records[0]["time"] < 1.5


def test_connection_refused_is_a_failure(publisher, subscriber, names, push_endpoint):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    dead_port = sock.getsockname()[1]
    sock.close()
    topic, sub = _push_sub(
        publisher, subscriber, names, f"http://127.0.0.1:{dead_port}/x", retry_policy=FAST_RETRY
    )
    publisher.publish(topic, b"x").result(timeout=10)
    # Repoint the subscription at a live endpoint: the message is still there.
    path = f"/moved-{names.tag}"
    subscriber.modify_push_config(
        request={"subscription": sub, "push_config": {"push_endpoint": push_endpoint.url(path)}}
    )
    [record] = push_endpoint.wait_for(path, 1)
    assert json.loads(record["body"])["subscription"] == sub


def test_stuck_endpoint_does_not_stall_another_subscription(
    publisher, subscriber, names, push_endpoint
):
    release = threading.Event()
    stuck, fine = f"/stuck-{names.tag}", f"/fine-{names.tag}"
    push_endpoint.respond(stuck, lambda r: (release.wait(30), 204)[1])
    topic = names.topic()
    publisher.create_topic(name=topic)
    _push_sub(publisher, subscriber, names, push_endpoint.url(stuck), suffix="stuck", topic=topic)
    _push_sub(publisher, subscriber, names, push_endpoint.url(fine), suffix="fine", topic=topic)
    try:
        for i in range(20):
            publisher.publish(topic, b"%d" % i)
        publisher.publish(topic, b"end").result(timeout=10)
        push_endpoint.wait_for(fine, 21, timeout=5)
        assert len(push_endpoint.received(stuck)) >= 2  # several in flight, all hanging
    finally:
        release.set()
    push_endpoint.wait_for(stuck, 21, timeout=10)


def test_several_pushes_in_flight_over_kept_alive_connections(
    publisher, subscriber, names, push_endpoint
):
    path = f"/slow-{names.tag}"
    push_endpoint.respond(path, lambda r: (time.sleep(0.3), 204)[1])
    topic, _ = _push_sub(publisher, subscriber, names, push_endpoint.url(path))
    started = time.monotonic()
    for i in range(16):
        publisher.publish(topic, b"%d" % i)
    publisher.publish(topic, b"last").result(timeout=10)
    records = push_endpoint.wait_for(path, 17)
    assert time.monotonic() - started < 2.0  # 17 x 0.3 s one at a time would be 5 s
    ports = {r["port"] for r in records}
    assert len(ports) <= 8  # connections are reused, at most one per worker


def test_oidc_token_verifies_against_the_emulator_certs(
    publisher, subscriber, names, push_endpoint, pubsub_emulator
):
    path = f"/oidc-{names.tag}"
    email = "invoker@test-project.iam.gserviceaccount.com"
    url = push_endpoint.url(path)
    topic, _ = _push_sub(
        publisher,
        subscriber,
        names,
        url,
        push_config={"oidc_token": {"service_account_email": email}},
    )
    _push_sub(
        publisher,
        subscriber,
        names,
        url + "?aud",
        suffix="aud",
        topic=topic,
        push_config={
            "oidc_token": {"service_account_email": email, "audience": "https://my-service.example"}
        },
    )
    publisher.publish(topic, b"signed").result(timeout=10)
    records = push_endpoint.wait_for(path, 1) + push_endpoint.wait_for(path + "?aud", 1)
    request = google.auth.transport.requests.Request()
    for record, audience in zip(records, [url, "https://my-service.example"], strict=True):
        scheme, token = record["headers"]["Authorization"].split(" ", 1)
        assert scheme == "Bearer"
        claims = id_token.verify_token(
            token, request, audience=audience, certs_url=f"http://{pubsub_emulator}/oauth2/v1/certs"
        )
        assert claims["iss"] == "https://accounts.google.com"
        assert claims["email"] == email
        assert claims["email_verified"] is True
        assert claims["sub"].isdigit()
        assert claims["exp"] > claims["iat"] >= time.time() - 60
    with pytest.raises(ValueError, match="audience"):
        id_token.verify_token(
            token,
            request,
            audience="https://someone-else.example",
            certs_url=f"http://{pubsub_emulator}/oauth2/v1/certs",
        )
    jwks = json.loads(
        google.auth.transport.requests.Request()(f"http://{pubsub_emulator}/oauth2/v3/certs").data
    )
    assert jwks["keys"][0]["alg"] == "RS256"


def test_push_to_pull_and_back(publisher, subscriber, names, push_endpoint):
    path = f"/toggle-{names.tag}"
    topic, sub = _push_sub(publisher, subscriber, names, push_endpoint.url(path))
    subscriber.modify_push_config(request={"subscription": sub, "push_config": {}})
    publisher.publish(topic, b"pulled").result(timeout=10)
    got = subscriber.pull(subscription=sub, max_messages=1, timeout=10)
    assert got.received_messages[0].message.data == b"pulled"
    subscriber.acknowledge(subscription=sub, ack_ids=[got.received_messages[0].ack_id])
    subscriber.modify_push_config(
        request={"subscription": sub, "push_config": {"push_endpoint": push_endpoint.url(path)}}
    )
    publisher.publish(topic, b"pushed").result(timeout=10)
    [record] = push_endpoint.wait_for(path, 1)
    assert base64.b64decode(json.loads(record["body"])["message"]["data"]) == b"pushed"


def test_ordered_push_delivers_one_key_in_order(
    publisher, subscriber, names, push_endpoint, pubsub_emulator
):
    import grpc
    from google.cloud import pubsub_v1
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

    ordered = pubsub_v1.PublisherClient(
        publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True),
        transport=PublisherGrpcTransport(channel=grpc.insecure_channel(pubsub_emulator)),
    )
    path = f"/in-order-{names.tag}"
    failed_once = threading.Event()

    def answer(record):
        body = json.loads(record["body"])
        five = body["message"]["data"] == base64.b64encode(b"5").decode()
        if five and not failed_once.is_set():
            failed_once.set()
            return 503  # a failure in the middle: 5 comes again before 6
        time.sleep(0.005)
        return 204

    push_endpoint.respond(path, answer)
    topic, _ = _push_sub(
        publisher,
        subscriber,
        names,
        push_endpoint.url(path),
        enable_message_ordering=True,
        retry_policy=FAST_RETRY,
    )
    for i in range(20):
        ordered.publish(topic, b"%d" % i, ordering_key="one")
    ordered.publish(topic, b"end", ordering_key="one").result(timeout=10)
    records = push_endpoint.wait_for(path, 22)
    data = [base64.b64decode(json.loads(r["body"])["message"]["data"]) for r in records]
    expected = [b"%d" % i for i in range(6)] + [b"5"] + [b"%d" % i for i in range(6, 20)]
    assert data == [*expected, b"end"]
    ordered.stop()


def test_without_a_retry_policy_a_failing_push_dead_letters_within_seconds(
    emulator_process, clients_for, push_endpoint, names
):
    """Google's push backoff (100 ms doubling, up to 60 s), not the 10 s .. 600 s of a retry
    policy's defaults: five failed attempts take about 1.5 s. The emulator runs with its
    defaults here, not the fast settings of the module's fixture."""
    emulator = emulator_process()
    publisher, subscriber = clients_for(emulator.target)
    dead, dead_sub = names.topic("dead"), names.sub("dead")
    publisher.create_topic(name=dead)
    subscriber.create_subscription(name=dead_sub, topic=dead)
    path = f"/poison-{names.tag}"
    push_endpoint.respond(path, lambda r: 500)
    topic, _ = _push_sub(
        publisher,
        subscriber,
        names,
        push_endpoint.url(path),
        dead_letter_policy={"dead_letter_topic": dead, "max_delivery_attempts": 5},
    )
    publisher.publish(topic, b"poison").result(timeout=10)
    response = subscriber.pull(subscription=dead_sub, max_messages=1, timeout=20)
    [dead_lettered] = response.received_messages
    assert dead_lettered.message.data == b"poison"
    assert dead_lettered.message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    records = push_endpoint.received(path)
    assert len(records) == 5
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(records)]
    for gap, floor in zip(gaps, [0.1, 0.2, 0.4, 0.8], strict=True):
        assert gap >= floor - 0.02, gaps
    # 1.5 s of pauses; the old 10 s .. 600 s default would have taken 150 s.
    assert records[-1]["time"] - records[0]["time"] < 10, gaps
    publisher.stop()
    subscriber.close()


def test_the_push_window_starts_small_and_grows_while_pushes_succeed(
    publisher, subscriber, names, push_endpoint
):
    path = f"/window-{names.tag}"
    lock = threading.Lock()
    state = {"in_flight": 0, "done": 0}
    seen: list[tuple[int, int]] = []  # (requests in flight, responses finished) at each arrival

    def answer(record):
        with lock:
            state["in_flight"] += 1
            seen.append((state["in_flight"], state["done"]))
        time.sleep(0.05)
        with lock:
            state["in_flight"] -= 1
            state["done"] += 1
        return 204

    push_endpoint.respond(path, answer)
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic, ack_deadline_seconds=60)
    for i in range(60):
        publisher.publish(topic, b"%d" % i)
    publisher.publish(topic, b"last").result(timeout=10)
    subscriber.modify_push_config(
        request={"subscription": sub, "push_config": {"push_endpoint": push_endpoint.url(path)}}
    )
    push_endpoint.wait_for(path, 61, timeout=30)
    before_any_answer = [n for n, done in seen if done == 0]
    assert max(before_any_answer) <= 3  # Google's "small single-digit window" to begin with
    assert 3 < max(n for n, _ in seen) <= 8  # grew, up to --push-concurrency
