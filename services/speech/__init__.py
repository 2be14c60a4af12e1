"""The speech service: Speech-to-Text v1 (and v2 `recognize`, `batchRecognize`) over offline
Whisper, or the real API."""
