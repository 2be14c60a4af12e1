"""Google's error model: codes, HTTP statuses, JSON shape, translation of client errors."""

from __future__ import annotations

from google.api_core import exceptions as core

from shared.errors import ApiError, Code, from_google_exception, invalid_argument


def test_json_shape_is_googles():
    error = invalid_argument("Bad thing.")
    assert error.to_json() == {
        "error": {"code": 400, "message": "Bad thing.", "status": "INVALID_ARGUMENT"}
    }


def test_per_item_status_uses_the_rpc_code():
    status = ApiError(Code.UNIMPLEMENTED, "Not here.").to_status()
    assert (status.code, status.message) == (12, "Not here.")


def test_http_status_can_differ_from_the_usual_mapping():
    assert ApiError(Code.INVALID_ARGUMENT, "big", http_status=413).to_json()["error"]["code"] == 413


def test_every_code_has_an_http_status():
    assert {code.http_status for code in Code} >= {
        200,
        400,
        401,
        403,
        404,
        409,
        429,
        500,
        501,
        503,
        504,
    }


def test_client_exceptions_translate_by_grpc_code():
    assert from_google_exception(core.NotFound("gone")).code == Code.NOT_FOUND
    assert from_google_exception(core.ServiceUnavailable("down")).code == Code.UNAVAILABLE
    assert from_google_exception(core.InvalidArgument("bad")).code == Code.INVALID_ARGUMENT
    assert from_google_exception(ConnectionError("refused")).code == Code.UNAVAILABLE


def test_retryable_codes():
    assert ApiError(Code.UNAVAILABLE, "").retryable
    assert not ApiError(Code.INVALID_ARGUMENT, "").retryable
