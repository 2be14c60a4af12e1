"""The `cloud` backend: Speech-to-Text itself, through `google-cloud-speech` (v1 and v2).

Requests pass through unchanged (Google applies its own limits and features); errors are
translated once into `ApiError`; `CLOUD_API_ENDPOINT` picks a regional endpoint
(`eu-speech.googleapis.com`). A long-running job is Google's operation, waited for here, its
`progressPercent` passed on, so the service's own operation mirrors it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.cloudclients import CloudClients, google_errors
from shared.config import Settings
from shared.gapictypes import message_types

speech = message_types("google.cloud.speech_v1")
speech_v2 = message_types("google.cloud.speech_v2")
_V1 = ("google.cloud.speech_v1", "SpeechClient")
_V2 = ("google.cloud.speech_v2", "SpeechClient")

# How often Google's operation is polled; Speech reports progress every few seconds.
POLL_SECONDS = 5.0


class CloudBackend:
    def __init__(self, settings: Settings) -> None:
        self._clients = CloudClients(settings)

    @google_errors
    def recognize(self, request: speech.RecognizeRequest) -> speech.RecognizeResponse:
        return self._clients.get(*_V1).recognize(request=request)

    @google_errors
    def long_running_recognize(
        self,
        request: speech.LongRunningRecognizeRequest,
        progress: Callable[[float], None] | None = None,
    ) -> speech.LongRunningRecognizeResponse:
        operation = self._clients.get(*_V1).long_running_recognize(request=request)
        return self._wait(operation, progress)

    @google_errors
    def recognize_v2(self, request: speech_v2.RecognizeRequest) -> speech_v2.RecognizeResponse:
        return self._clients.get(*_V2).recognize(request=request)

    @google_errors
    def batch_recognize(
        self,
        request: speech_v2.BatchRecognizeRequest,
        progress: Callable[[float], None] | None = None,
    ) -> speech_v2.BatchRecognizeResponse:
        operation = self._clients.get(*_V2).batch_recognize(request=request)
        return self._wait(operation, progress)

    def _wait(self, operation, progress: Callable[[float], None] | None):
        while not operation.done():
            if progress is not None and operation.metadata is not None:
                progress(float(operation.metadata.progress_percent))
            time.sleep(POLL_SECONDS)
        return operation.result()

    def close(self) -> None:
        self._clients.close()
