"""Google's Speech-to-Text limits and the messages it answers them with
(cloud.google.com/speech-to-text/quotas; ../shared/GOOGLE-FACTS.md). The local backend applies
them after decoding the header; the cloud backend leaves them to Google."""

from __future__ import annotations

from shared.errors import invalid_argument

SYNC_MAX_SECONDS = 60.0
SYNC_MAX_BYTES = 10 * 1024 * 1024
INLINE_MAX_SECONDS = 60.0
URI_MAX_SECONDS = 480 * 60.0

SYNC_TOO_LONG = (
    "Sync input too long. For audio longer than 1 min use LongRunningRecognize with a 'uri' "
    "parameter."
)
INLINE_TOO_LONG = "Inline audio exceeds duration limit. Please use a GCS URI."
PAYLOAD_TOO_LARGE = f"Request payload size exceeds the limit: {SYNC_MAX_BYTES} bytes."
NO_AUDIO = "RecognitionAudio not set."
BOTH_SOURCES = (
    "RecognitionAudio has both 'content' and 'uri' set; set exactly one (content for inline "
    "audio, uri for gs://)."
)


def check_sync(duration_s: float, content_bytes: int) -> None:
    if content_bytes > SYNC_MAX_BYTES:
        raise invalid_argument(PAYLOAD_TOO_LARGE)
    if duration_s > SYNC_MAX_SECONDS:
        raise invalid_argument(SYNC_TOO_LONG)


def check_long_running(duration_s: float, inline: bool) -> None:
    if inline and duration_s > INLINE_MAX_SECONDS:
        raise invalid_argument(INLINE_TOO_LONG)
    if duration_s > URI_MAX_SECONDS:
        raise invalid_argument(
            f"Audio of {duration_s / 60:.0f} minutes exceeds the limit of 480 minutes for "
            "LongRunningRecognize."
        )
