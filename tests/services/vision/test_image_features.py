"""FACE_DETECTION, IMAGE_PROPERTIES and the features the local backend cannot do, through the
official client against the running service."""

from __future__ import annotations

import importlib.resources

import pytest
from google.cloud import vision
from PIL import Image

from local.samples import png_bytes

Feature = vision.Feature.Type


def _photo(name: str) -> Image.Image:
    """A photograph shipped inside scikit-image's wheel (nothing is downloaded)."""
    with importlib.resources.as_file(importlib.resources.files("skimage") / "data" / name) as p:
        return Image.open(p).convert("RGB")


def _box(poly: vision.BoundingPoly) -> tuple[int, int, int, int]:
    xs, ys = [v.x for v in poly.vertices], [v.y for v in poly.vertices]
    return min(xs), min(ys), max(xs), max(ys)


def test_finds_the_astronauts_face(client):
    response = client.face_detection({"content": png_bytes(_photo("astronaut.png"))})
    assert not response.error.message
    assert len(response.face_annotations) == 1
    face = response.face_annotations[0]
    x1, y1, x2, y2 = _box(face.fd_bounding_poly)
    # Eileen Collins' face sits around x 180-270, y 70-160 in this 512x512 photo.
    assert 150 < (x1 + x2) / 2 < 300
    assert 60 < (y1 + y2) / 2 < 180
    hx1, hy1, hx2, hy2 = _box(face.bounding_poly)
    # The head box holds the face box.
    assert hx1 <= x1
    assert hy1 <= y1
    assert hx2 >= x2
    assert hy2 >= y2
    assert 0 < face.detection_confidence < 1
    assert face.joy_likelihood == vision.Likelihood.UNKNOWN
    assert list(face.landmarks) == []


def test_counts_faces_in_a_group_and_honours_max_results(client):
    face = _photo("astronaut.png").crop((120, 20, 340, 240))
    group = Image.new("RGB", (face.width * 3 + 80, face.height + 40), "white")
    for i in range(3):
        group.paste(face, (20 + i * (face.width + 20), 20))
    content = png_bytes(group)
    assert len(client.face_detection({"content": content}).face_annotations) == 3
    limited = client.annotate_image(
        {
            "image": {"content": content},
            "features": [{"type_": Feature.FACE_DETECTION, "max_results": 2}],
        }
    )
    assert len(limited.face_annotations) == 2


def test_no_face_in_a_cup_of_coffee(client):
    response = client.face_detection({"content": png_bytes(_photo("coffee.png"))})
    assert list(response.face_annotations) == []


def test_dominant_colours_and_their_fractions(client):
    image = Image.new("RGB", (200, 100), (200, 30, 40))
    image.paste((20, 60, 220), (150, 0, 200, 100))  # a quarter of the image
    response = client.image_properties({"content": png_bytes(image)})
    colors = response.image_properties_annotation.dominant_colors.colors
    assert len(colors) == 2
    first, second = colors
    assert (first.color.red, first.color.green, first.color.blue) == (200, 30, 40)
    assert first.pixel_fraction == pytest.approx(0.75, abs=0.01)
    assert (second.color.red, second.color.green, second.color.blue) == (20, 60, 220)
    assert second.pixel_fraction == pytest.approx(0.25, abs=0.01)


@pytest.mark.parametrize(
    "feature",
    [
        "SAFE_SEARCH_DETECTION",
        "LANDMARK_DETECTION",
        "LOGO_DETECTION",
        "WEB_DETECTION",
        "PRODUCT_SEARCH",
        "OBJECT_LOCALIZATION",
        "CROP_HINTS",
    ],
)
def test_features_without_an_offline_engine_are_unimplemented(client, feature):
    response = client.annotate_image(
        {
            "image": {"content": png_bytes(_photo("coffee.png"))},
            "features": [{"type_": Feature[feature]}],
        }
    )
    assert response.error.code == 12  # UNIMPLEMENTED
    assert feature in response.error.message
    assert "VISION_ML_BACKEND=cloud" in response.error.message


def test_available_features_still_answer_beside_unimplemented_ones(client):
    response = client.annotate_image(
        {
            "image": {"content": png_bytes(_photo("astronaut.png"))},
            "features": [
                {"type_": Feature.SAFE_SEARCH_DETECTION},
                {"type_": Feature.FACE_DETECTION},
            ],
        }
    )
    assert response.error.code == 12
    assert len(response.face_annotations) == 1


def test_enum_names_in_plain_json(vision_service):
    """Without `$alt=json;enum-encoding=int` (curl, say), enums come back as names."""
    import base64
    import json
    import urllib.request

    body = json.dumps(
        {
            "requests": [
                {
                    "image": {
                        "content": base64.b64encode(png_bytes(_photo("coffee.png"))).decode()
                    },
                    "features": [
                        {"type": "SAFE_SEARCH_DETECTION"},
                        {"type": "IMAGE_PROPERTIES", "maxResults": 3},
                    ],
                }
            ]
        }
    ).encode()
    request = urllib.request.Request(
        f"{vision_service.url}/v1/images:annotate", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        answer = json.load(response)["responses"][0]
    assert answer["error"]["code"] == 12
    assert len(answer["imagePropertiesAnnotation"]["dominantColors"]["colors"]) == 3
