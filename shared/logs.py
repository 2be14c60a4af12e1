"""Logging as Cloud Logging structured JSON on stdout, readable text on a terminal.

One JSON object per line with the fields Cloud Logging lifts out of a container's output
(cloud.google.com/logging/docs/structured-logging): `severity`, `message`, `time`,
`logging.googleapis.com/trace`, `logging.googleapis.com/spanId`,
`logging.googleapis.com/sourceLocation`, and `httpRequest` for request logs. Extra fields go in
through `extra={"json_fields": {...}}`. The trace comes from the current request's
`X-Cloud-Trace-Context` or W3C `traceparent` header (see `trace_from_headers`).

Never log document contents or credentials: log names, sizes and ids.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

_trace: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "trace", default=None
)
_project = "local-project"
_configured = False

_X_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/([0-9]+))?")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")

_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}


def trace_from_headers(headers: Mapping[str, str]) -> tuple[str, str | None] | None:
    """(trace id, span id) from `X-Cloud-Trace-Context: TRACE/SPAN;o=1` or
    `traceparent: 00-TRACE-SPAN-01`; None when neither is present and well formed."""
    cloud = headers.get("X-Cloud-Trace-Context")
    if cloud and (match := _X_CLOUD_TRACE.match(cloud)):
        return match.group(1).lower(), match.group(2)
    parent = headers.get("traceparent")
    if parent and (match := _TRACEPARENT.match(parent.strip().lower())):
        return match.group(1), match.group(2)
    return None


def bind_trace(trace: tuple[str, str | None] | None) -> contextvars.Token:
    return _trace.set(trace)


def unbind_trace(token: contextvars.Token) -> None:
    _trace.reset(token)


class CloudLoggingFormatter(logging.Formatter):
    """One JSON line per record, in the shape Cloud Logging parses."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": record.getMessage(),
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "logger": record.name,
            "logging.googleapis.com/sourceLocation": {
                "file": record.pathname,
                "line": record.lineno,
                "function": record.funcName,
            },
        }
        trace = _trace.get()
        if trace:
            entry["logging.googleapis.com/trace"] = f"projects/{_project}/traces/{trace[0]}"
            if trace[1]:
                entry["logging.googleapis.com/spanId"] = trace[1]
        fields = getattr(record, "json_fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            # Error Reporting picks up a stack trace appended to the message.
            entry["message"] += "\n" + self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """For people at a terminal: time, level, logger, message, then the structured fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "json_fields", None)
        if fields:
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return text


def setup_logging(fmt: str = "auto", level: str = "INFO", project: str | None = None) -> None:
    """Install the formatter on the root logger once per process; later calls only adjust."""
    global _configured, _project
    if project:
        _project = project
    use_json = fmt == "json" or (fmt == "auto" and not sys.stdout.isatty())
    root = logging.getLogger()
    root.setLevel(level.upper())
    if _configured:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudLoggingFormatter() if use_json else TextFormatter())
    handler.set_name("mlapi")
    root.handlers = [h for h in root.handlers if h.get_name() != "mlapi"] + [handler]
    # werkzeug's own access log would duplicate ours in a different shape.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    _configured = True
