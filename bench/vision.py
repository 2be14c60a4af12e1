"""Vision benchmark: OCR quality and latency per condition for each OCR engine, OCR latency
through the service vs Tesseract called directly, and the service's cold start. Not part of
the test run.

    .venv/bin/python bench/vision.py [--rounds 5] [--per-condition 2] [--engines tesseract,rapidocr]
    .venv/bin/python bench/vision.py --rounds 1 --per-condition 1 --engines tesseract --no-service
    .venv/bin/python bench/vision.py --rounds 1 --per-condition 3 --sets fresh,hard --no-service

Per condition (`local.samples.OCR_CONDITIONS`; `--sets`: the generated OCR set's two parts,
"set", and the images nothing was tuned on, "fresh" and "hard", see `local.samples.ocr_set`):
mean and worst CER and the median latency of the shared engine in-process, for each engine;
then the latency of clean images against hard ones (wall clock and CPU: on a shared machine
the CPU time is the steadier figure).

Peers, in one run, on the same rendered images:
- `tesseract direct`: tesserocr, warm engine, the image as it is (what a user would write);
- `ours in-process`: our OCR (`recognise`: clean-up, orientation, deskew, then Tesseract);
- `ours via service`: the official client -> HTTP -> the service (warm) -> the same OCR.
Cold start with the local backend: process start to the first answer on the health route,
and to the first OCR answer. Last, the line of `bench/overhead.py`: TEXT_DETECTION through
the service vs the local backend in-process, and the cold start with the cloud backend (what
Cloud Run pays per instance) beside a functions-framework hello world.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _proc, overhead  # noqa: E402
from local.clients import api_client  # noqa: E402
from local.samples import (  # noqa: E402
    HARD_CONDITIONS,
    OCR_CONDITIONS,
    OcrSample,
    TextImage,
    cer,
    ocr_set,
    png_bytes,
    render,
    sentences,
)


def official_client(url: str):
    from google.cloud import vision

    return api_client(vision.ImageAnnotatorClient, url)


CASES = [
    TextImage(sentences(3, 1), font="sans", size=28),
    TextImage(sentences(3, 2), font="serif", size=22),
    TextImage(sentences(3, 3), font="mono", size=20),
    TextImage(sentences(3, 5), font="sans", size=11),
    TextImage(sentences(3, 6), font="serif-dejavu", size=26, rotate=90),
    TextImage(sentences(2, 7), font="sans", size=26, rotate=180),
    TextImage(sentences(3, 8), font="sans-free", size=26, rotate=7),
    TextImage(sentences(3, 9), font="sans", size=26, noise=40),
    TextImage(sentences(3, 10), font="serif", size=26, ink=150, paper=185),
    TextImage(sentences(3, 11), font="sans", size=24, blur=1.2),
]


def timed(function, rounds: int, cpu: list[float] | None = None) -> tuple[float, object]:
    """Median wall seconds over `rounds` warm runs (and each run's CPU seconds into `cpu`)."""
    result = function()  # warm-up, not counted
    samples = []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        samples.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.process_time() - started_cpu)
    return statistics.median(samples), result


def condition_rows(
    read: Callable[[Image.Image], str], samples: list[OcrSample], rounds: int
) -> list[tuple[OcrSample, float, float, float]]:
    """(sample, CER, median seconds, median CPU seconds) for each sample read by `read`."""
    rows = []
    for sample in samples:
        image = render(sample.spec)
        cpu: list[float] = []
        seconds, text = timed(lambda image=image: read(image), rounds, cpu)
        rows.append((sample, cer(sample.reference, str(text)), seconds, statistics.median(cpu)))
    return rows


def print_condition_table(
    results: dict[str, list[tuple[OcrSample, float, float, float]]], title: str
) -> None:
    """One line per condition, mean CER / worst CER / median ms for each engine."""
    engines = list(results)
    print(f"\nOCR per condition, {title}: mean CER / worst CER / median ms (warm, in-process)")
    print(f"{'condition':<18}" + "".join(f" | {name:^24}" for name in engines))
    conditions = [
        c
        for c in [*OCR_CONDITIONS, *HARD_CONDITIONS]
        if any(r[0].condition == c for r in results[engines[0]])
    ]
    for condition in [*conditions, "all"]:
        line = f"{condition:<18}"
        for name in engines:
            rows = [r for r in results[name] if condition in ("all", r[0].condition)]
            rates, times = [r[1] for r in rows], [r[2] for r in rows]
            line += (
                f" | {statistics.mean(rates):7.3f} {max(rates):6.3f} "
                f"{statistics.median(times) * 1e3:8.0f}ms"
            )
        print(line)
    for name in engines:
        clean = [r for r in results[name] if r[0].condition == "clean"]
        hard = [r for r in results[name] if r[0].condition != "clean"]
        line = f"{name}: {len(results[name])} images; latency"
        for label, rows in (("clean", clean), ("hard", hard)):
            if rows:
                wall = statistics.median(r[2] for r in rows) * 1e3
                cpu = statistics.median(r[3] for r in rows) * 1e3
                line += f" {label} median {wall:.0f} ms (CPU {cpu:.0f} ms),"
        if hard:
            line += f" hard max {max(r[2] for r in hard) * 1e3:.0f} ms"
        print(line)


def engine_readers(names: list[str]) -> dict[str, Callable[[Image.Image], str]]:
    import shared.ocr

    readers = {}
    for name in names:
        engine = shared.ocr.create_engine(shared.ocr.OcrSettings(ocr_engine=name))
        readers[name] = lambda image, engine=engine: engine.recognise(image).text
    return readers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--per-condition", type=int, default=2, help="images per condition and part"
    )
    parser.add_argument("--engines", default="tesseract,rapidocr")
    parser.add_argument("--no-service", action="store_true", help="only the per-condition table")
    parser.add_argument(
        "--sets", default="set", help="comma-separated: set (tuning + held-out), fresh, hard"
    )
    parser.add_argument("--seed", type=int, default=9, help="the fresh and hard sets' seed")
    args = parser.parse_args()

    readers = engine_readers(args.engines.split(","))
    for name in args.sets.split(","):
        if name == "set":
            samples = ocr_set("tuning", args.per_condition) + ocr_set(
                "held-out", args.per_condition
            )
            title = "the OCR set (tuning + held-out)"
        else:
            samples = ocr_set(name, args.per_condition, seed=args.seed)
            title = f"{name} images (seed {args.seed}, never tuned on)"
        results = {
            engine: condition_rows(read, samples, args.rounds) for engine, read in readers.items()
        }
        print_condition_table(results, title)
    if args.no_service:
        return

    import tesserocr

    import shared.ocr
    from shared.ocr.languages import find_tessdata

    tessdata = find_tessdata()
    images = [render(case) for case in CASES]
    references = ["\n".join(case.lines) for case in CASES]
    direct_api = tesserocr.PyTessBaseAPI(path=tessdata, lang="eng")
    engine = shared.ocr.create_engine(shared.ocr.OcrSettings())

    def direct(image):
        direct_api.SetImage(image)
        return direct_api.GetUTF8Text()

    service = _proc.start("vision", ML_BACKEND="local")
    client = official_client(service.url)
    rows = []
    try:
        for image, reference in zip(images, references, strict=True):
            payload = png_bytes(image)
            t_direct, text_direct = timed(lambda image=image: direct(image), args.rounds)
            t_ours, result = timed(lambda image=image: engine.recognise(image), args.rounds)
            t_service, response = timed(
                lambda payload=payload: client.text_detection({"content": payload}), args.rounds
            )
            rows.append(
                (
                    image.size,
                    t_direct,
                    t_ours,
                    t_service,
                    cer(reference, text_direct),
                    cer(reference, result.text),
                    cer(reference, response.full_text_annotation.text),
                )
            )
    finally:
        service.stop()

    print("\nOCR per image (median of", args.rounds, "warm runs, ms) and CER")
    print(
        f"{'image':>10} {'direct':>8} {'ours':>8} {'service':>8} | "
        f"{'CER direct':>10} {'CER ours':>9} {'CER svc':>8}"
    )
    for size, t_d, t_o, t_s, c_d, c_o, c_s in rows:
        print(
            f"{size[0]:>4}x{size[1]:<5} {t_d * 1e3:8.0f} {t_o * 1e3:8.0f} {t_s * 1e3:8.0f} | "
            f"{c_d:10.3f} {c_o:9.3f} {c_s:8.3f}"
        )
    direct_ms = statistics.median(r[1] for r in rows) * 1e3
    ours_ms = statistics.median(r[2] for r in rows) * 1e3
    service_ms = statistics.median(r[3] for r in rows) * 1e3
    print(
        f"{'median':>10} {direct_ms:8.0f} {ours_ms:8.0f} {service_ms:8.0f} | "
        f"{statistics.mean(r[4] for r in rows):10.3f} {statistics.mean(r[5] for r in rows):9.3f}"
        f" {statistics.mean(r[6] for r in rows):8.3f}  (CER: mean)"
    )
    print(
        f"ratios: service/direct {service_ms / direct_ms:.2f}x, "
        f"service/ours-in-process {service_ms / ours_ms:.2f}x"
    )

    # The cloud backend's cold start is in overhead.report, beside the hello world.
    print("\nCold start, local backend, process start -> first answer (median of 5)")
    health, first_ocr = [], []
    for _ in range(5):
        service = _proc.start("vision", ML_BACKEND="local")
        health.append(service.startup_seconds)
        started = time.perf_counter()
        official_client(service.url).text_detection({"content": png_bytes(images[0])})
        first_ocr.append(service.startup_seconds + time.perf_counter() - started)
        service.stop()
    print(
        f"  health {statistics.median(health):.2f} s, "
        f"first OCR answer {statistics.median(first_ocr):.2f} s"
    )
    overhead.report("vision")


if __name__ == "__main__":
    main()
