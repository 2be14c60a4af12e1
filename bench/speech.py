"""Measure the speech service against faster-whisper called directly, on the same clips:
real-time factor (seconds of compute per second of audio) through the service and direct,
word error rate per engine and model size, model load time, RSS after load, and concurrent
long-running jobs on one instance. Run from the repository root:

    .venv/bin/python -m bench.speech

Clips: Debian's pocketsphinx-testdata (LibriVox readings and the "cards" recordings), used
where installed or unpacked with `apt-get download` + `dpkg -x`.
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
from google.cloud import speech_v1 as speech

from bench._proc import rss_mb, start
from local.clients import api_client
from local.harness import free_port, stop, wait_for_port
from tests.services.speech.conftest import INSTALLED, SpeechData, _unpack, word_error_rate

LRO_JOBS = 4


def _clips() -> list:
    if (INSTALLED / "librivox" / "transcription").exists():
        data = SpeechData(INSTALLED)
    else:
        data = SpeechData(_unpack(Path(tempfile.mkdtemp(prefix="bench-speech-"))))
    return data.librivox + data.cards


def _seconds(clip) -> float:
    return soundfile.info(clip.path).duration


ROUNDS = 2  # each clip this many times; the fastest counts (other work shares the cores)


def _load(model: str):
    from services.speech.backends.local import whisper

    try:
        return whisper.load(model)
    except Exception as exc:  # report and go on: a model that does not load is a finding
        return str(exc).split(". See")[0]


def _mono(clip) -> np.ndarray:
    from services.speech.backends.local.audio import resample

    samples, rate = soundfile.read(clip.path, dtype="float32", always_2d=True)
    return resample(samples, rate)[:, 0]


def _timed(call) -> tuple[float, str]:
    best, text = float("inf"), ""
    for _ in range(ROUNDS):
        started = time.perf_counter()
        text = call()
        best = min(best, time.perf_counter() - started)
    return best, text


def _whisper_call(loaded, clip, beam: int):
    from services.speech.backends.local import whisper

    options = whisper.Options("en", beam_size=beam)
    mono = _mono(clip)
    return lambda: "".join(u.text for u in whisper.transcribe(loaded, mono, options))


def _service_call(client, clip):
    def call() -> str:
        response = client.recognize(
            config=speech.RecognitionConfig(language_code="en-US"),
            audio=speech.RecognitionAudio(content=clip.data),
        )
        return "".join(r.alternatives[0].transcript for r in response.results)

    return call


def _sphinx_call(engine, clip):
    from services.speech.backends.local import whisper

    mono = _mono(clip)
    options = whisper.Options("en")
    return lambda: "".join(u.text for u in engine.transcribe(mono, options))


def _measure(clips) -> dict:
    """Every engine on every clip, interleaved clip by clip, so that load from other work on
    the machine falls on all of them alike."""
    from services.speech.backends.local import sphinx

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    base = _load("base")
    rows: dict[str, dict] = {
        "direct base beam 5": {"load_s": base.load_seconds,
                               "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                               - before},
        "direct base beam 1": {},
        "service base beam 5": {},
        "pocketsphinx": {},
    }  # fmt: skip
    started = time.perf_counter()
    engine = sphinx.load()
    rows["pocketsphinx"]["load_s"] = time.perf_counter() - started
    small = _load("small")
    rows["direct small beam 5"] = {"error": small} if isinstance(small, str) else {}
    service = start("speech", SPEECH_PREWARM="true")
    try:
        client = api_client(speech.SpeechClient, service.url)
        rows["service base beam 5"].update(
            load_s=service.startup_seconds, rss_mb=rss_mb(service.process.pid)
        )
        _service_call(client, clips[0])()  # warm-up: the first call pays for lazy imports
        calls = {
            "direct base beam 5": lambda c: _whisper_call(base, c, 5),
            "direct base beam 1": lambda c: _whisper_call(base, c, 1),
            "service base beam 5": lambda c: _service_call(client, c),
            "pocketsphinx": lambda c: _sphinx_call(engine, c),
        }
        if not isinstance(small, str):
            calls["direct small beam 5"] = lambda c: _whisper_call(small, c, 5)
        for clip in clips:
            for name, make in calls.items():
                seconds, text = _timed(make(clip))
                row = rows[name]
                row["compute"] = row.get("compute", 0.0) + seconds
                row.setdefault("hypotheses", []).append(text)
        rows["service base beam 5"]["rss_after_mb"] = rss_mb(service.process.pid)
    finally:
        service.stop()
    audio = sum(_seconds(c) for c in clips)
    references = [c.transcript for c in clips]
    for row in rows.values():
        if "hypotheses" in row:
            row["rtf"] = row["compute"] / audio
            row["wer"] = word_error_rate(references, row["hypotheses"])
    return rows


def _concurrent_jobs(clips) -> dict:
    """LRO_JOBS long-running jobs by gs:// uri at once on one instance (2 workers)."""
    port = free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "local.gcs_emulator", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, emulator)
        os.environ["STORAGE_EMULATOR_HOST"] = url
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        gcs = storage.Client(project="bench", credentials=AnonymousCredentials())
        gcs.create_bucket("bench-results")
        audio_bucket = gcs.create_bucket("bench-audio")
        parts = [soundfile.read(c.path, dtype="int16")[0] for c in clips[:5]]
        joined = np.concatenate(parts)
        buffer = io.BytesIO()
        soundfile.write(buffer, joined, 16000, format="WAV", subtype="PCM_16")
        audio_bucket.blob("long.wav").upload_from_string(buffer.getvalue())
        seconds = len(joined) / 16000
        service = start(
            "speech",
            SPEECH_PREWARM="true",
            SPEECH_LRO_WORKERS="2",
            STORAGE_EMULATOR_HOST=url,
            RESULTS_BUCKET="bench-results",
        )
        try:
            client = api_client(speech.SpeechClient, service.url)
            started = time.perf_counter()
            operations = [
                client.long_running_recognize(
                    config=speech.RecognitionConfig(language_code="en-US"),
                    audio=speech.RecognitionAudio(uri="gs://bench-audio/long.wav"),
                )
                for _ in range(LRO_JOBS)
            ]
            with concurrent.futures.ThreadPoolExecutor(LRO_JOBS) as pool:
                list(pool.map(lambda op: op.result(timeout=900), operations))
            wall = time.perf_counter() - started
            return {"jobs": LRO_JOBS, "audio_s": seconds, "wall_s": wall,
                    "audio_per_wall": LRO_JOBS * seconds / wall,
                    "rss_mb": rss_mb(service.process.pid)}  # fmt: skip
        finally:
            service.stop()
    finally:
        stop(emulator)


def main() -> None:
    clips = _clips()
    audio = sum(_seconds(c) for c in clips)
    print(f"{len(clips)} clips, {audio:.1f} s of human speech (LibriVox + cards), 2 threads, int8;"
          f" best of {ROUNDS} per clip, engines interleaved clip by clip")  # fmt: skip
    rows = _measure(clips)
    print("\n| engine | WER | RTF | load s | RSS MiB |")
    print("|---|---|---|---|---|")
    for name, row in rows.items():
        if "error" in row:
            print(f"| {name} | does not load: {row['error']} | | | |")
            continue
        rss = f"{row['rss_mb']:.0f}" if "rss_mb" in row else "-"
        if "rss_after_mb" in row:
            rss += f" after load, {row['rss_after_mb']:.0f} after the clips"
        load = f"{row['load_s']:.1f}" if "load_s" in row else "-"
        print(f"| {name} | {row['wer']:.1%} | {row['rtf']:.3f} | {load} | {rss} |")
    overhead = rows["service base beam 5"]["rtf"] / rows["direct base beam 5"]["rtf"] - 1
    print(f"\nservice overhead on the real-time factor: {overhead:+.1%} (target <= +10%)")
    print("direct base RSS: peak growth of this process while loading (joined bytes + model);")
    print("service load s: process start to the first health answer, model loaded (prewarm)")
    jobs = _concurrent_jobs(clips)
    print(
        f"{jobs['jobs']} concurrent long-running jobs of {jobs['audio_s']:.1f} s each by gs:// "
        f"uri, 2 workers: all done in {jobs['wall_s']:.1f} s "
        f"({jobs['audio_per_wall']:.2f} s of audio a second; RSS {jobs['rss_mb']:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
