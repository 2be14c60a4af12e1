"""FACE_DETECTION with OpenCV's frontal-face Haar cascade.

What it gives: `fdBoundingPoly` (the tight face box the cascade finds), `boundingPoly` (that box
grown to roughly the head, as Google's is, clipped to the image) and `detectionConfidence`.
What it cannot give, said plainly: landmarks, roll/pan/tilt angles and the emotion/headwear
likelihoods are left out or UNKNOWN, never guessed. `detectionConfidence` is the cascade's final
stage weight w mapped by w / (w + 2): monotone in the cascade's own score, not calibrated.
Only frontal faces are found.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from shared.gapictypes import message_types

vision = message_types("google.cloud.vision_v1")

_CASCADE_FILE = "haarcascade_frontalface_default.xml"
# Faces smaller than this (px) are mostly false positives for the Haar cascade.
MIN_FACE = 24
# How much larger Google's head box is than the face box, per side (measured by eye on
# published examples: about a third of the width sideways, half the height upwards).
_GROW_X, _GROW_UP, _GROW_DOWN = 0.25, 0.45, 0.15

_local = threading.local()


def _cascade() -> cv2.CascadeClassifier:
    # CascadeClassifier is not safe to share between threads: one per thread.
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + _CASCADE_FILE)
        if cascade.empty():
            raise RuntimeError(f"OpenCV cascade {_CASCADE_FILE} is missing")
        _local.cascade = cascade
    return cascade


def detect_faces(grey: np.ndarray, max_results: int) -> list[vision.FaceAnnotation]:
    """Faces in a grey uint8 image, most confident first, at most `max_results`."""
    height, width = grey.shape
    scale = 1.0
    if max(width, height) > 1600:
        # Haar cost grows with area; 1600 px is Google's recommended size for faces.
        scale = 1600 / max(width, height)
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    equalised = cv2.equalizeHist(grey)
    boxes, _levels, weights = _cascade().detectMultiScale3(
        equalised,
        scaleFactor=1.1,
        minNeighbors=5,
        minSize=(MIN_FACE, MIN_FACE),
        outputRejectLevels=True,
    )
    found = sorted(zip(boxes, np.ravel(weights), strict=False), key=lambda f: -f[1])
    faces = []
    for (x, y, w, h), weight in found[: max(max_results, 0) or None]:
        x, y, w, h = (v / scale for v in (x, y, w, h))
        faces.append(
            vision.FaceAnnotation(
                fd_bounding_poly=_box(x, y, x + w, y + h, width, height),
                bounding_poly=_box(
                    x - w * _GROW_X,
                    y - h * _GROW_UP,
                    x + w * (1 + _GROW_X),
                    y + h * (1 + _GROW_DOWN),
                    width,
                    height,
                ),
                detection_confidence=float(weight / (weight + 2.0)) if weight > 0 else 0.0,
            )
        )
    return faces


def _box(x1: float, y1: float, x2: float, y2: float, width: int, height: int):
    def clip(v: float, hi: int) -> int:
        return round(min(max(v, 0), hi))

    x1, x2 = clip(x1, width), clip(x2, width)
    y1, y2 = clip(y1, height), clip(y2, height)
    return vision.BoundingPoly(
        vertices=[
            vision.Vertex(x=x1, y=y1),
            vision.Vertex(x=x2, y=y1),
            vision.Vertex(x=x2, y=y2),
            vision.Vertex(x=x1, y=y2),
        ]
    )
