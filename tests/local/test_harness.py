"""The harness's free ports: servers get ports the kernel does not hand to outgoing
connections, so a parallel test's client sockets cannot take one before its server binds."""

import socket

from local import harness


def test_a_free_port_is_bindable_and_below_the_ephemeral_range():
    start = harness._ephemeral_start()
    ports = {harness.free_port() for _ in range(20)}
    for port in ports:
        assert port < start or start - harness._LOWEST < 1000
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
