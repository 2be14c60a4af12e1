"""The speech service: Speech-to-Text v1 (and v2 `recognize`) over offline Whisper, or the
real API."""
