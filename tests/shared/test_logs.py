"""Structured logging: Cloud Logging's JSON fields and trace extraction."""

from __future__ import annotations

import json
import logging

import pytest

from shared import logs


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"},
            ("105445aa7843bc8bf206b12000100000", "1"),
        ),
        (
            {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
            ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"),
        ),
        ({"traceparent": "garbage"}, None),
        ({}, None),
    ],
)
def test_trace_from_headers(headers, expected):
    assert logs.trace_from_headers(headers) == expected


def _record(message: str, **extra) -> logging.LogRecord:
    record = logging.LogRecord("t", logging.WARNING, __file__, 10, message, (), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_line_has_cloud_logging_fields():
    token = logs.bind_trace(("abc", "7"))
    try:
        line = logs.CloudLoggingFormatter().format(_record("hi", json_fields={"objects": 3}))
    finally:
        logs.unbind_trace(token)
    entry = json.loads(line)
    assert entry["severity"] == "WARNING"
    assert entry["message"] == "hi"
    assert entry["objects"] == 3
    assert entry["logging.googleapis.com/trace"].endswith("/traces/abc")
    assert entry["logging.googleapis.com/spanId"] == "7"
    assert entry["logging.googleapis.com/sourceLocation"]["line"] == 10


def test_text_format_is_readable():
    text = logs.TextFormatter().format(_record("hello", json_fields={"k": "v"}))
    assert "WARNING" in text
    assert "hello" in text
    assert "k=v" in text
