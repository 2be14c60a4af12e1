"""Bad input: every case is a 4xx in Google's error JSON or a per-image error, and the service
keeps answering afterwards."""

from __future__ import annotations

import base64
import json
import struct
import urllib.error
import urllib.request
import zlib

import pytest
from google.api_core import exceptions
from google.cloud import vision

from local.samples import TextImage, png_bytes, render

Feature = vision.Feature.Type
TEXT = [{"type_": Feature.TEXT_DETECTION}]


def _post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _png_declaring(width: int, height: int) -> bytes:
    """A valid-looking PNG of a few hundred bytes whose header claims width x height."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def good_png() -> bytes:
    return png_bytes(render(TextImage(("Still here",), size=30)))


@pytest.fixture(autouse=True)
def _service_still_answers(vision_service, client, good_png):
    yield
    assert vision_service.alive()
    assert "Still" in client.text_detection({"content": good_png}).full_text_annotation.text


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "Invalid JSON payload"),
        (b"[1, 2]", "JSON object"),
        (
            json.dumps(
                {
                    "requests": [
                        {
                            "image": {"content": "@@not base64@@"},
                            "features": [{"type": "TEXT_DETECTION"}],
                        }
                    ]
                }
            ).encode(),
            "Invalid JSON payload",
        ),
        (
            json.dumps({"requests": [{"image": {"content": "aGk="}, "colour": 1}]}).encode(),
            "colour",
        ),
        (
            json.dumps({"requests": [{"features": [{"type": "NOT_A_FEATURE"}]}]}).encode(),
            "NOT_A_FEATURE",
        ),
        (json.dumps({"requests": []}).encode(), "No requests"),
    ],
)
def test_malformed_requests_are_400_in_googles_shape(vision_service, body, fragment):
    status, answer = _post(f"{vision_service.url}/v1/images:annotate", body)
    assert status == 400
    assert answer["error"]["status"] == "INVALID_ARGUMENT"
    assert answer["error"]["code"] == 400
    assert fragment in answer["error"]["message"]


def test_more_than_16_images_is_400(client, good_png):
    requests = [{"image": {"content": good_png}, "features": TEXT}] * 17
    with pytest.raises(exceptions.BadRequest, match="Too many images"):
        client.batch_annotate_images(requests=requests)


def test_body_over_the_limit_is_413(vision_service):
    # The fixture runs the service with MAX_REQUEST_BYTES = 12 MiB.
    content = base64.b64encode(b"\0" * (10 * 2**20)).decode()
    body = json.dumps({"requests": [{"image": {"content": content}}]}).encode()
    status, answer = _post(f"{vision_service.url}/v1/images:annotate", body)
    assert status == 413
    assert "exceeds the limit" in answer["error"]["message"]


@pytest.mark.parametrize(
    ("content", "code", "fragment"),
    [
        (b"this is not an image", 3, "Bad image data"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, 3, "Bad image data"),
        (_png_declaring(60_000, 60_000), 3, "pixels"),
    ],
    ids=["not-an-image", "garbage-png", "decompression-bomb"],
)
def test_undecodable_images_are_per_image_errors(client, content, code, fragment):
    response = client.annotate_image({"image": {"content": content}, "features": TEXT})
    assert response.error.code == code
    assert fragment in response.error.message


def test_truncated_png_is_a_per_image_error(client, good_png):
    response = client.annotate_image(
        {"image": {"content": good_png[: len(good_png) // 2]}, "features": TEXT}
    )
    assert response.error.code == 3
    assert response.error.message == "Bad image data."


def test_one_bad_image_does_not_spoil_the_batch(client, good_png):
    response = client.batch_annotate_images(
        requests=[
            {"image": {"content": b"nope"}, "features": TEXT},
            {"image": {"content": good_png}, "features": TEXT},
        ]
    )
    bad, good = response.responses
    assert bad.error.code == 3
    assert "Still here" in good.full_text_annotation.text


@pytest.mark.parametrize(
    "uri",
    [
        "http://169.254.169.254/computeMetadata/v1/",
        "http://127.0.0.1:22/x.png",
        "https://localhost/x.png",
        "http://[::1]/x.png",
    ],
)
def test_image_uri_to_internal_addresses_is_refused(client, uri):
    response = client.annotate_image({"image": {"source": {"image_uri": uri}}, "features": TEXT})
    assert response.error.code == 7  # PERMISSION_DENIED
    assert "not allowed" in response.error.message


def test_missing_gcs_object_is_not_found(client):
    response = client.annotate_image(
        {
            "image": {"source": {"gcs_image_uri": "gs://no-such-bucket/none.png"}},
            "features": TEXT,
        }
    )
    assert response.error.code == 5  # NOT_FOUND


def test_no_feature_is_a_per_image_error(client, good_png):
    # (client.annotate_image would fill in every feature when none is given.)
    response = client.batch_annotate_images(
        requests=[{"image": {"content": good_png}, "features": []}]
    ).responses[0]
    assert response.error.code == 3
    assert "No feature" in response.error.message
