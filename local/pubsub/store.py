"""Durable state: topics, subscriptions and unacknowledged messages in SQLite (WAL mode).

One writer thread applies queued operations in order, many per transaction (group commit).
Callers that must not answer before their change is on disk (publish, create, delete) call
:meth:`SqliteStore.sync`, which waits for the commit that holds their operations; acks,
deadline changes and delivery counts are written behind, so losing the last few milliseconds of
them to ``kill -9`` means a redelivery (at-least-once, as the real service promises).
``synchronous=NORMAL`` in WAL mode survives the process being killed; it is not meant to
survive a power cut.

:class:`MemoryStore` has the same methods and keeps nothing: the emulator without
``--data-dir``.

Layout: ``topics(name, pb)``, ``subscriptions(name, pb)``,
``messages(sub, seq, pb, attempts, acked)`` where ``pb`` is the serialized google.pubsub.v1
message (``acked`` marks a retained acknowledged message of a subscription with
``retain_acked_messages``), ``meta(key, value)`` holding the next message id,
``resources(kind, name, pb)`` for snapshots, schemas and IAM policies, and
``kept(owner, seq, pb)`` for the messages a topic's retention or a snapshot keeps (the owner is
the topic's or the snapshot's name). A message is stored once per subscription, retaining topic
and snapshot it is kept by.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from dataclasses import dataclass, field

log = logging.getLogger("local.pubsub.store")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, pb BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (name TEXT PRIMARY KEY, pb BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    sub TEXT NOT NULL, seq INTEGER NOT NULL, pb BLOB NOT NULL, attempts INTEGER NOT NULL,
    acked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sub, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL, name TEXT NOT NULL, pb BLOB NOT NULL, PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kept (
    owner TEXT NOT NULL, seq INTEGER NOT NULL, pb BLOB NOT NULL, PRIMARY KEY (owner, seq)
) WITHOUT ROWID;
"""
# Data directories written before retained acked messages existed lack the column.
_ADD_ACKED = "ALTER TABLE messages ADD COLUMN acked INTEGER NOT NULL DEFAULT 0"

_PUT_TOPIC = "INSERT OR REPLACE INTO topics VALUES (?, ?)"
_DEL_TOPIC = "DELETE FROM topics WHERE name = ?"
_PUT_SUB = "INSERT OR REPLACE INTO subscriptions VALUES (?, ?)"
_DEL_SUB = "DELETE FROM subscriptions WHERE name = ?"
_DEL_SUB_MESSAGES = "DELETE FROM messages WHERE sub = ?"
_PUT_MESSAGE = "INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?)"
_SET_ACKED = "UPDATE messages SET acked = 1 WHERE sub = ? AND seq = ?"
_PUT_RESOURCE = "INSERT OR REPLACE INTO resources VALUES (?, ?, ?)"
_DEL_RESOURCE = "DELETE FROM resources WHERE kind = ? AND name = ?"
_PUT_KEPT = "INSERT OR REPLACE INTO kept VALUES (?, ?, ?)"
_DEL_KEPT = "DELETE FROM kept WHERE owner = ? AND seq = ?"
_DEL_OWNER_KEPT = "DELETE FROM kept WHERE owner = ?"
_DEL_MESSAGE = "DELETE FROM messages WHERE sub = ? AND seq = ?"
_SET_ATTEMPTS = "UPDATE messages SET attempts = ? WHERE sub = ? AND seq = ?"
# Publishes on different topics may queue their ids out of order: keep the largest.
_SET_NEXT_ID = (
    "INSERT INTO meta VALUES ('next_id', ?) "
    "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)"
)


@dataclass
class Snapshot:
    """What a restart finds on disk."""

    topics: list[tuple[str, bytes]] = field(default_factory=list)
    subscriptions: list[tuple[str, bytes]] = field(default_factory=list)
    # sub name -> [(seq, message pb, attempts, acked)] in seq order
    messages: dict[str, list[tuple[int, bytes, int, bool]]] = field(default_factory=dict)
    next_id: int = 1
    # kind ("snapshot", "schema", "policy") -> [(name, pb)]
    resources: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)
    # topic or snapshot name -> [(seq, message pb)] in seq order
    kept: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)


class MemoryStore:
    """Keeps nothing; every method is a no-op. The store when no data directory is given."""

    durable = False

    def start(self) -> Snapshot:
        return Snapshot()

    def stop(self) -> None:
        pass

    def sync(self) -> None:
        pass

    def put_topic(self, name: str, pb: bytes) -> None:
        pass

    def delete_topic(self, name: str) -> None:
        pass

    def put_subscription(self, name: str, pb: bytes) -> None:
        pass

    def delete_subscription(self, name: str) -> None:
        pass

    def add_messages(self, rows: list[tuple[str, int, bytes]], next_id: int) -> None:
        pass

    def remove_message(self, sub: str, seq: int) -> None:
        pass

    def clear_messages(self, sub: str) -> None:
        pass

    def remove_messages(self, rows: list[tuple[str, int]]) -> None:
        pass

    def set_attempts(self, sub: str, seq: int, attempts: int) -> None:
        pass

    def set_acked(self, rows: list[tuple[str, int]]) -> None:
        pass

    def replace_messages(self, sub: str, rows: list[tuple[int, bytes, bool]]) -> None:
        pass

    def put_resource(self, kind: str, name: str, pb: bytes) -> None:
        pass

    def delete_resource(self, kind: str, name: str) -> None:
        pass

    def add_kept(self, rows: list[tuple[str, int, bytes]]) -> None:
        pass

    def remove_kept(self, rows: list[tuple[str, int]]) -> None:
        pass

    def clear_kept(self, owner: str) -> None:
        pass


class SqliteStore(MemoryStore):
    """SQLite in ``data_dir/pubsub.sqlite3``, written by one thread, committed in groups."""

    durable = True

    def __init__(self, data_dir: str) -> None:
        self.path = os.path.join(data_dir, "pubsub.sqlite3")
        os.makedirs(data_dir, exist_ok=True)
        # _cond protects _ops (operations not yet written, in order), _queued (count of
        # operations ever queued), _committed (count ever committed) and _stopping.
        self._cond = threading.Condition()
        self._ops: list[tuple[str, tuple]] = []
        self._queued = 0
        self._committed = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._db: sqlite3.Connection | None = None

    def start(self) -> Snapshot:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
        if "acked" not in columns:
            db.execute(_ADD_ACKED)
        snap = Snapshot()
        snap.topics = list(db.execute("SELECT name, pb FROM topics"))
        snap.subscriptions = list(db.execute("SELECT name, pb FROM subscriptions"))
        max_seq = 0
        for sub, seq, pb, attempts, acked in db.execute(
            "SELECT sub, seq, pb, attempts, acked FROM messages ORDER BY sub, seq"
        ):
            snap.messages.setdefault(sub, []).append((seq, pb, attempts, bool(acked)))
            max_seq = max(max_seq, seq)
        for kind, name, pb in db.execute("SELECT kind, name, pb FROM resources ORDER BY name"):
            snap.resources.setdefault(kind, []).append((name, pb))
        for owner, seq, pb in db.execute("SELECT owner, seq, pb FROM kept ORDER BY owner, seq"):
            snap.kept.setdefault(owner, []).append((seq, pb))
            max_seq = max(max_seq, seq)
        row = db.execute("SELECT value FROM meta WHERE key = 'next_id'").fetchone()
        snap.next_id = max(row[0] if row else 1, max_seq + 1)
        self._db = db
        self._thread = threading.Thread(target=self._run, name="pubsub-store", daemon=True)
        self._thread.start()
        log.info("store opened at %s", self.path)
        return snap

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._db is not None:
            self._db.close()
            self._db = None

    def _queue(self, *ops: tuple[str, tuple]) -> int:
        with self._cond:
            self._ops.extend(ops)
            self._queued += len(ops)
            self._cond.notify_all()
            return self._queued

    def sync(self) -> None:
        """Returns once every operation queued so far is committed."""
        with self._cond:
            target = self._queued
            while self._committed < target and self._thread is not None:
                if not self._thread.is_alive():
                    raise RuntimeError("the store writer stopped")
                self._cond.wait(1.0)

    def put_topic(self, name: str, pb: bytes) -> None:
        self._queue((_PUT_TOPIC, (name, pb)))

    def delete_topic(self, name: str) -> None:
        self._queue((_DEL_TOPIC, (name,)))

    def put_subscription(self, name: str, pb: bytes) -> None:
        self._queue((_PUT_SUB, (name, pb)))

    def delete_subscription(self, name: str) -> None:
        self._queue((_DEL_SUB, (name,)), (_DEL_SUB_MESSAGES, (name,)))

    def add_messages(self, rows: list[tuple[str, int, bytes]], next_id: int) -> None:
        ops = [(_PUT_MESSAGE, (sub, seq, pb, 0, 0)) for sub, seq, pb in rows]
        ops.append((_SET_NEXT_ID, (next_id,)))
        self._queue(*ops)

    def remove_message(self, sub: str, seq: int) -> None:
        self._queue((_DEL_MESSAGE, (sub, seq)))

    def clear_messages(self, sub: str) -> None:
        self._queue((_DEL_SUB_MESSAGES, (sub,)))

    def remove_messages(self, rows: list[tuple[str, int]]) -> None:
        self._queue(*[(_DEL_MESSAGE, row) for row in rows])

    def set_attempts(self, sub: str, seq: int, attempts: int) -> None:
        self._queue((_SET_ATTEMPTS, (attempts, sub, seq)))

    def set_acked(self, rows: list[tuple[str, int]]) -> None:
        self._queue(*[(_SET_ACKED, row) for row in rows])

    def replace_messages(self, sub: str, rows: list[tuple[int, bytes, bool]]) -> None:
        ops = [(_DEL_SUB_MESSAGES, (sub,))]
        ops += [(_PUT_MESSAGE, (sub, seq, pb, 0, int(acked))) for seq, pb, acked in rows]
        self._queue(*ops)

    def put_resource(self, kind: str, name: str, pb: bytes) -> None:
        self._queue((_PUT_RESOURCE, (kind, name, pb)))

    def delete_resource(self, kind: str, name: str) -> None:
        self._queue((_DEL_RESOURCE, (kind, name)))

    def add_kept(self, rows: list[tuple[str, int, bytes]]) -> None:
        self._queue(*[(_PUT_KEPT, row) for row in rows])

    def remove_kept(self, rows: list[tuple[str, int]]) -> None:
        self._queue(*[(_DEL_KEPT, row) for row in rows])

    def clear_kept(self, owner: str) -> None:
        self._queue((_DEL_OWNER_KEPT, (owner,)))

    def _run(self) -> None:
        assert self._db is not None
        while True:
            with self._cond:
                while not self._ops and not self._stopping:
                    self._cond.wait()
                ops, self._ops = self._ops, []
                if not ops and self._stopping:
                    return
            try:
                self._write(ops)
            except sqlite3.Error:
                log.exception("store write failed; %d operations lost", len(ops))
            with self._cond:
                self._committed += len(ops)
                self._cond.notify_all()

    def _write(self, ops: list[tuple[str, tuple]]) -> None:
        """Applies ``ops`` in order in one transaction, runs of one statement as executemany."""
        db = self._db
        assert db is not None
        db.execute("BEGIN")
        i = 0
        while i < len(ops):
            sql = ops[i][0]
            j = i
            while j < len(ops) and ops[j][0] == sql:
                j += 1
            if j - i == 1:
                db.execute(sql, ops[i][1])
            else:
                db.executemany(sql, [params for _, params in ops[i:j]])
            i = j
        db.execute("COMMIT")
