"""A value made once a process (`shared.perprocess.PerProcess`), and again in a forked child."""

from __future__ import annotations

import os
import threading

from shared.perprocess import PerProcess


def test_threads_asking_at_once_get_one_value():
    made = []
    value = PerProcess(lambda: made.append(object()) or made[-1])
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait()
        value.get()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert value.get() is made[0]


def test_a_forked_child_makes_its_own():
    value = PerProcess(lambda: os.getpid())
    assert value.get() == os.getpid()
    child = os.fork()
    if child == 0:  # in the child: its own value, not the parent's pid
        os._exit(0 if value.get() == os.getpid() else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert value.get() == os.getpid()  # the parent's is unchanged


def test_a_forgotten_value_is_made_again_and_only_the_one_named_is_forgotten():
    made = []
    value = PerProcess(lambda: made.append(object()) or made[-1])
    first = value.get()
    assert value.forget(object()) is None  # not the current one: kept
    assert value.get() is first
    assert value.forget(first) is first
    assert value.get() is not first
    assert len(made) == 2
