"""The one error type of the emulator and its mapping to gRPC codes and HTTP statuses.

Every collaborator raises :class:`ApiError` with a canonical status name (``"NOT_FOUND"``);
the gRPC servicer turns it into ``context.abort(grpc.StatusCode[status], message)`` and the
REST app into Google's error JSON ``{"error": {"code", "message", "status"}}``. Nothing else
crosses the boundary: unexpected exceptions become ``INTERNAL``.
"""

from __future__ import annotations

# Canonical code -> (gRPC number, HTTP status), from google/rpc/code.proto.
CODES: dict[str, tuple[int, int]] = {
    "CANCELLED": (1, 499),
    "UNKNOWN": (2, 500),
    "INVALID_ARGUMENT": (3, 400),
    "DEADLINE_EXCEEDED": (4, 504),
    "NOT_FOUND": (5, 404),
    "ALREADY_EXISTS": (6, 409),
    "PERMISSION_DENIED": (7, 403),
    "RESOURCE_EXHAUSTED": (8, 429),
    "FAILED_PRECONDITION": (9, 400),
    "ABORTED": (10, 409),
    "OUT_OF_RANGE": (11, 400),
    "UNIMPLEMENTED": (12, 501),
    "INTERNAL": (13, 500),
    "UNAVAILABLE": (14, 503),
}


class ApiError(Exception):
    """A request failed with a canonical Google status (e.g. ``NOT_FOUND``) and a message."""

    def __init__(self, status: str, message: str) -> None:
        if status not in CODES:
            raise ValueError(f"unknown status {status!r}")
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    @property
    def http_status(self) -> int:
        return CODES[self.status][1]

    def to_json(self) -> dict:
        """Google's REST error body."""
        return {"error": {"code": self.http_status, "message": self.message, "status": self.status}}


def invalid(message: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", message)


def not_found(resource: str) -> ApiError:
    # The real service's wording: "Resource not found (resource=my-topic)."
    return ApiError("NOT_FOUND", f"Resource not found (resource={resource}).")


def already_exists(resource: str) -> ApiError:
    return ApiError(
        "ALREADY_EXISTS", f"Resource already exists in the project (resource={resource})."
    )


def unimplemented(what: str) -> ApiError:
    return ApiError("UNIMPLEMENTED", f"{what} is not implemented by the local Pub/Sub emulator.")
