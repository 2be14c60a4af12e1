"""The one interface both backends implement: Speech-to-Text's request types in, response
types out (`google.cloud.speech_v1`, `google.cloud.speech_v2`). `long_running_recognize` and
`batch_recognize` do the whole job (the operation around it is the service's,
`services/speech/operations.py`) and report progress in percent through `progress`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from shared.gapictypes import message_types

speech = message_types("google.cloud.speech_v1")
speech_v2 = message_types("google.cloud.speech_v2")


class SpeechBackend(Protocol):
    def recognize(self, request: speech.RecognizeRequest) -> speech.RecognizeResponse: ...

    def long_running_recognize(
        self,
        request: speech.LongRunningRecognizeRequest,
        progress: Callable[[float], None] | None = None,
    ) -> speech.LongRunningRecognizeResponse: ...

    def recognize_v2(self, request: speech_v2.RecognizeRequest) -> speech_v2.RecognizeResponse: ...

    def batch_recognize(
        self,
        request: speech_v2.BatchRecognizeRequest,
        progress: Callable[[float], None] | None = None,
    ) -> speech_v2.BatchRecognizeResponse: ...

    def close(self) -> None: ...
