"""A local Pub/Sub emulator: google.pubsub.v1 over gRPC and REST on one port.

Start it with ``python -m local.pubsub --port 8085`` or in-process with
``Emulator(host, port, data_dir).start()``; see docs/pubsub-emulator.md for what is
implemented and what is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local.pubsub.emulator import Emulator

__all__ = ["Emulator"]


def __getattr__(name: str):  # lazy, so `python -m local.pubsub` imports only what it needs
    if name == "Emulator":
        from local.pubsub.emulator import Emulator

        return Emulator
    raise AttributeError(name)
