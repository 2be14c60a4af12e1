"""Google's canonical error model, raised anywhere and rendered once, at the HTTP boundary.

    ApiError                  one Google status (`google.rpc.Code`) plus a message
     +-- raised by handlers, backends and workflows;
     +-- rendered by `shared.app` as {"error": {"code", "message", "status", "details"}};
     +-- turned into a per-item `google.rpc.Status` with `to_status()` (Vision's per-image error).

`from_google_exception` translates the exceptions of google-api-core (the `cloud` backends)
into the same type, so a service never leaks a foreign error shape.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from google.rpc import status_pb2


class Code(enum.IntEnum):
    """`google.rpc.Code`, with the HTTP status Google maps each one to (google/rpc/code.proto)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    Code.OK: 200,
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
    Code.UNAUTHENTICATED: 401,
}

# Codes after which the same request may succeed later (a dependency was down or busy).
RETRYABLE = frozenset(
    {
        Code.UNAVAILABLE,
        Code.DEADLINE_EXCEEDED,
        Code.RESOURCE_EXHAUSTED,
        Code.ABORTED,
        Code.INTERNAL,
        Code.UNKNOWN,
    }
)


class ApiError(Exception):
    """An error with a Google status. `http_status` may differ from the code's usual mapping
    where Google's front end answers differently (413 for an oversized body, say)."""

    def __init__(
        self,
        code: Code,
        message: str,
        *,
        http_status: int | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status or code.http_status
        self.details = details or []

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.http_status,
            "message": self.message,
            "status": self.code.name,
        }
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def to_status(self) -> status_pb2.Status:
        """The per-item form (`google.rpc.Status`), as Vision puts it in an image's `error`."""
        return status_pb2.Status(code=int(self.code), message=self.message)

    def __repr__(self) -> str:
        return f"ApiError({self.code.name}, {self.message!r})"


# Longest rendering of a caller's value in an error message: enough to recognise it, never an
# echo of a whole payload (or of a value built to be logged and replayed).
ECHO_LIMIT = 40


def echo(value: Any, limit: int = ECHO_LIMIT) -> str:
    """A caller-sent value as an error message may show it: escaped (no control or non-ASCII
    characters), at most `limit` characters of it, then "..."; strings quoted."""
    text = value if isinstance(value, str) else repr(value)
    escaped = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    if len(escaped) > limit:
        escaped = escaped[:limit] + "..."
    if not isinstance(value, str):
        return escaped  # a number, a list: as Python writes it
    return "'" + escaped.replace("'", "\\'") + "'"


def invalid_argument(message: str, **kwargs: Any) -> ApiError:
    return ApiError(Code.INVALID_ARGUMENT, message, **kwargs)


def not_found(message: str) -> ApiError:
    return ApiError(Code.NOT_FOUND, message)


def unimplemented(message: str) -> ApiError:
    return ApiError(Code.UNIMPLEMENTED, message)


def unavailable(message: str) -> ApiError:
    return ApiError(Code.UNAVAILABLE, message)


def from_google_exception(exc: Exception) -> ApiError:
    """Translate a google-api-core exception (raised by the official clients) into ApiError."""
    from google.api_core import exceptions as core

    if isinstance(exc, core.GoogleAPICallError):
        grpc_code = getattr(exc, "grpc_status_code", None)
        code = Code(grpc_code.value[0]) if grpc_code is not None else _code_for_http(exc.code)
        upstream = _rest_error_payload(exc)
        message = upstream.get("message") or _REQUEST_PREFIX.sub("", exc.message or str(exc))
        details = upstream.get("details")
        return ApiError(code, message, details=details if isinstance(details, list) else None)
    if isinstance(exc, core.RetryError):
        return ApiError(Code.DEADLINE_EXCEEDED, str(exc))
    return ApiError(Code.UNAVAILABLE, f"{type(exc).__name__}: {exc}")


# api-core prefixes REST errors with "POST https://host/path?query: "; the upstream URL is ours
# to know, not our callers'.
_REQUEST_PREFIX = re.compile(r"^[A-Z]+ https?://\S+: ")


def _rest_error_payload(exc: Exception) -> dict[str, Any]:
    """Google's `error` object from a REST response behind `exc`, when there is one."""
    response = getattr(exc, "response", None)
    try:
        payload = response.json() if response is not None and hasattr(response, "json") else {}
    except ValueError:
        return {}
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else {}


def _code_for_http(http_status: int | None) -> Code:
    for code, status in _HTTP_STATUS.items():
        if status == http_status and code not in (Code.FAILED_PRECONDITION, Code.OUT_OF_RANGE):
            return code
    return Code.UNKNOWN
