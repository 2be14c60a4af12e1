"""The one interface both backends implement: Document AI's request types in, response
types out. Page limits differ between online and batch, so the caller says which applies."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from shared.gapictypes import message_types

documentai = message_types("google.cloud.documentai_v1")


@dataclasses.dataclass(frozen=True)
class Limits:
    """What the caller allows: online (15 pages, 30 imageless) or one batch document."""

    online: bool = True
    batch_pages: int = 0  # per document, in batch
    max_bytes: int = 40 * 1024 * 1024


class DocumentAIBackend(Protocol):
    def process(
        self, request: documentai.ProcessRequest, processor_type: str, limits: Limits
    ) -> documentai.ProcessResponse:
        """`request.name` is the full processor (or processor version) name."""
        ...

    def close(self) -> None: ...
