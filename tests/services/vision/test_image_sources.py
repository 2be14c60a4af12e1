"""Where image bytes come from: Cloud Storage, and the rules for http(s) URLs (unit level)."""

from __future__ import annotations

import pytest

from local.samples import TextImage, png_bytes, render
from services.vision.backends.local.images import ImageLimits, check_host
from shared.errors import ApiError, Code


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/a.png",
        "http://127.0.0.1/a.png",
        "http://169.254.169.254/",
        "http://10.0.0.8/a.png",
        "http://192.168.1.1/a.png",
        "http://[::1]/a.png",
        "http://0.0.0.0/a.png",
    ],
)
def test_internal_addresses_are_refused_even_when_allow_listed(url):
    host = url.split("//")[1].split("/")[0].strip("[]")
    with pytest.raises(ApiError) as info:
        check_host(url, frozenset({host, "localhost"}))
    assert info.value.code == Code.PERMISSION_DENIED
    assert "non-public" in info.value.message


def test_hosts_off_the_allow_list_are_refused():
    with pytest.raises(ApiError, match="not allowed") as info:
        check_host("https://example.com/a.png", frozenset())
    assert info.value.code == Code.PERMISSION_DENIED


def test_reads_gcs_image_uri(client, gcs):
    bucket = gcs.create_bucket("vision-sources")
    bucket.blob("scans/hello.png").upload_from_string(
        png_bytes(render(TextImage(("Read me from storage",), size=30))), content_type="image/png"
    )
    response = client.text_detection(
        {"source": {"gcs_image_uri": "gs://vision-sources/scans/hello.png"}}
    )
    assert "Read me from storage" in response.full_text_annotation.text


def test_limits_default_to_googles():
    assert ImageLimits().max_bytes == 20 * 1024 * 1024
