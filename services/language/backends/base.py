"""The one interface both backends implement, and the table of Natural Language RPCs.

Each RPC is named by its version and REST verb (`v1`, `analyzeSentiment`); the backend takes
that RPC's proto-plus request type and returns its response type, so routes, workflow and
tests never know which backend answered.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import proto

from shared.gapictypes import message_types

language_v1 = message_types("google.cloud.language_v1")
language_v2 = message_types("google.cloud.language_v2")


@dataclasses.dataclass(frozen=True)
class Rpc:
    version: str  # "v1" | "v2"
    verb: str  # REST verb after `documents:`, e.g. "analyzeSentiment"
    request_type: type[proto.Message]
    method: str  # the client library's method name, e.g. "analyze_sentiment"


def _rpcs(version: str, module, verbs: list[str]) -> dict[str, Rpc]:
    table = {}
    for verb in verbs:
        method = "".join(f"_{c.lower()}" if c.isupper() else c for c in verb)
        request_type = getattr(module, verb[0].upper() + verb[1:] + "Request")
        table[verb] = Rpc(version, verb, request_type, method)
    return table


V1 = _rpcs(
    "v1",
    language_v1,
    [
        "analyzeSentiment",
        "analyzeEntities",
        "analyzeEntitySentiment",
        "analyzeSyntax",
        "classifyText",
        "moderateText",
        "annotateText",
    ],
)
# v2 drops syntax and entity sentiment (language/v2/language_service.proto).
V2 = _rpcs(
    "v2",
    language_v2,
    ["analyzeSentiment", "analyzeEntities", "classifyText", "moderateText", "annotateText"],
)
RPCS = {"v1": V1, "v2": V2}


class LanguageBackend(Protocol):
    def call(self, rpc: Rpc, request: proto.Message) -> proto.Message:
        """Answer `request` (of `rpc.request_type`) with the RPC's response type; failures
        are ApiError."""
        ...

    def close(self) -> None: ...
