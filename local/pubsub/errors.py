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

    def __init__(self, status: str, message: str, details: tuple = ()) -> None:
        if status not in CODES:
            raise ValueError(f"unknown status {status!r}")
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.details = details  # protobuf messages (google.rpc.ErrorInfo ...) sent alongside

    @property
    def code(self) -> int:
        return CODES[self.status][0]

    @property
    def http_status(self) -> int:
        return CODES[self.status][1]

    def to_json(self) -> dict:
        """Google's REST error body, with ``details`` as protobuf JSON carrying ``@type``."""
        error = {"code": self.http_status, "message": self.message, "status": self.status}
        if self.details:
            from google.protobuf import any_pb2, json_format

            packed = []
            for detail in self.details:
                wrapper = any_pb2.Any()
                wrapper.Pack(detail)
                packed.append(json_format.MessageToDict(wrapper))
            error["details"] = packed
        return {"error": error}


def invalid(message: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", message)


def not_found(resource: str) -> ApiError:
    # The real service's wording: "Resource not found (resource=my-topic)."
    return ApiError("NOT_FOUND", f"Resource not found (resource={resource}).")


def already_exists(resource: str) -> ApiError:
    return ApiError(
        "ALREADY_EXISTS", f"Resource already exists in the project (resource={resource})."
    )


def failed_precondition(message: str) -> ApiError:
    return ApiError("FAILED_PRECONDITION", message)


def exactly_once_failure(ack_ids: list[str]) -> ApiError:
    """What the real service answers when some ack ids of an exactly-once subscription fail:
    INVALID_ARGUMENT with a google.rpc.ErrorInfo whose metadata maps each failed ack id to its
    reason (the client library completes those futures with AcknowledgeError INVALID_ACK_ID)."""
    from google.rpc import error_details_pb2

    info = error_details_pb2.ErrorInfo(
        reason="EXACTLY_ONCE_ACKID_FAILURE",
        domain="pubsub.googleapis.com",
        metadata=dict.fromkeys(ack_ids, "PERMANENT_FAILURE_INVALID_ACK_ID"),
    )
    return ApiError(
        "INVALID_ARGUMENT",
        "Some acknowledgement ids in the request were invalid. This could be because the "
        "acknowledgement ids have expired or the acknowledgement ids were malformed.",
        (info,),
    )


def unimplemented(what: str) -> ApiError:
    return ApiError("UNIMPLEMENTED", f"{what} is not implemented by the local Pub/Sub emulator.")
