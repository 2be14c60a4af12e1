"""files:annotate: PDF, TIFF and GIF pages through the official client."""

from __future__ import annotations

import io

import pytest
from google.cloud import vision
from PIL import Image

from local.samples import TextImage, render

Feature = vision.Feature.Type
PAGES = [("Page one says hello.",), ("Page two says goodbye.",), ("Page three is last.",)]


def _document(fmt: str) -> bytes:
    rendered = [render(TextImage(lines, size=30)) for lines in PAGES]
    # Pages of one size: a GIF's later frames are cut to the first one's canvas.
    size = (max(i.width for i in rendered), max(i.height for i in rendered))
    images = []
    for image in rendered:
        page = Image.new("L", size, 255)
        page.paste(image.convert("L"))
        images.append(page)
    buffer = io.BytesIO()
    images[0].save(buffer, format=fmt, save_all=True, append_images=images[1:], resolution=100)
    return buffer.getvalue()


def _file_request(content: bytes, mime_type: str, pages=()) -> dict:
    return {
        "input_config": {"content": content, "mime_type": mime_type},
        "features": [{"type_": Feature.DOCUMENT_TEXT_DETECTION}],
        "pages": list(pages),
    }


@pytest.mark.parametrize(
    ("fmt", "mime_type"), [("PDF", "application/pdf"), ("TIFF", "image/tiff"), ("GIF", "image/gif")]
)
def test_reads_every_page(client, fmt, mime_type):
    response = client.batch_annotate_files(
        requests=[_file_request(_document(fmt), mime_type)]
    ).responses[0]
    assert not response.error.message
    assert response.total_pages == 3
    assert [r.context.page_number for r in response.responses] == [1, 2, 3]
    for page, expected in zip(response.responses, PAGES, strict=True):
        assert page.full_text_annotation.text.strip() == expected[0]


def test_pages_select_and_count_from_the_end(client):
    response = client.batch_annotate_files(
        requests=[_file_request(_document("PDF"), "application/pdf", pages=[-1, 1])]
    ).responses[0]
    assert [r.context.page_number for r in response.responses] == [3, 1]
    assert "last" in response.responses[0].full_text_annotation.text


def test_more_than_five_pages_is_refused(client):
    response = client.batch_annotate_files(
        requests=[_file_request(_document("PDF"), "application/pdf", pages=[1, 2, 3, 1, 2, 3])]
    ).responses[0]
    assert response.error.code == 3
    assert "At most 5 pages" in response.error.message


def test_page_out_of_range_is_refused(client):
    response = client.batch_annotate_files(
        requests=[_file_request(_document("PDF"), "application/pdf", pages=[4])]
    ).responses[0]
    assert response.error.code == 3


@pytest.mark.parametrize(
    ("content", "mime_type", "fragment"),
    [
        (b"%PDF-1.7 broken", "application/pdf", "Bad PDF"),
        (b"abc", "image/png", "Unsupported mime type"),
    ],
)
def test_bad_files_are_errors_of_that_file(client, content, mime_type, fragment):
    response = client.batch_annotate_files(requests=[_file_request(content, mime_type)]).responses[
        0
    ]
    assert response.error.code == 3
    assert fragment in response.error.message


def test_reads_a_pdf_from_cloud_storage(client, gcs):
    gcs.create_bucket("vision-files").blob("doc.pdf").upload_from_string(
        _document("PDF"), content_type="application/pdf"
    )
    response = client.batch_annotate_files(
        requests=[
            {
                "input_config": {
                    "gcs_source": {"uri": "gs://vision-files/doc.pdf"},
                    "mime_type": "application/pdf",
                },
                "features": [{"type_": Feature.TEXT_DETECTION}],
                "pages": [2],
            }
        ]
    ).responses[0]
    assert response.responses[0].context.uri == "gs://vision-files/doc.pdf"
    assert "goodbye" in response.responses[0].full_text_annotation.text
