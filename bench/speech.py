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


def _direct(clips, model: str, beam: int) -> dict:
    """faster-whisper in this process, with the service's own loading and decoding options."""
    from services.speech.backends.local import whisper
    from services.speech.backends.local.audio import resample

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        loaded = whisper.load(model)
    except Exception as exc:  # report and go on: a model that does not load is a finding
        return {"error": str(exc).split(". See")[0]}
    options = whisper.Options("en", beam_size=beam)
    hypotheses, compute = [], 0.0
    for clip in clips:
        samples, rate = soundfile.read(clip.path, dtype="float32", always_2d=True)
        mono = resample(samples, rate)[:, 0]
        started = time.perf_counter()
        utterances = whisper.transcribe(loaded, mono, options)
        compute += time.perf_counter() - started
        hypotheses.append("".join(u.text for u in utterances))
    audio = sum(_seconds(c) for c in clips)
    return {
        "load_s": loaded.load_seconds,
        "rtf": compute / audio,
        "wer": word_error_rate([c.transcript for c in clips], hypotheses),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before,
    }


def _service(clips) -> dict:
    service = start("speech", SPEECH_PREWARM="true")
    try:
        client = api_client(speech.SpeechClient, service.url)
        rss = rss_mb(service.process.pid)
        client.recognize(  # one warm-up call: the first pays for lazy imports
            config=speech.RecognitionConfig(language_code="en-US"),
            audio=speech.RecognitionAudio(content=clips[0].data),
        )
        hypotheses, elapsed = [], 0.0
        for clip in clips:
            started = time.perf_counter()
            response = client.recognize(
                config=speech.RecognitionConfig(language_code="en-US"),
                audio=speech.RecognitionAudio(content=clip.data),
            )
            elapsed += time.perf_counter() - started
            hypotheses.append("".join(r.alternatives[0].transcript for r in response.results))
        audio = sum(_seconds(c) for c in clips)
        return {
            "start_s": service.startup_seconds,
            "rss_mb": rss,
            "rss_after_mb": rss_mb(service.process.pid),
            "rtf": elapsed / audio,
            "wer": word_error_rate([c.transcript for c in clips], hypotheses),
        }
    finally:
        service.stop()


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
    print(f"{len(clips)} clips, {audio:.1f} s of human speech (LibriVox + cards), 2 threads, int8")
    direct = _direct(clips, "base", 5)
    greedy = _direct(clips, "base", 1)
    small = _direct(clips, "small", 5)
    served = _service(clips)
    overhead = served["rtf"] / direct["rtf"] - 1
    print("\n| engine | model | beam | WER | RTF | load s | RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| faster-whisper direct | base | 5 | {direct['wer']:.1%} | {direct['rtf']:.3f} | "
        f"{direct['load_s']:.1f} | +{direct['peak_rss_mb']:.0f} (peak, in-process) |"
    )
    print(
        f"| faster-whisper direct | base | 1 | {greedy['wer']:.1%} | {greedy['rtf']:.3f} | - | - |"
    )
    if "error" in small:
        print(f"| faster-whisper direct | small | 5 | does not load: {small['error']} | | | |")
    else:
        print(
            f"| faster-whisper direct | small | 5 | {small['wer']:.1%} | {small['rtf']:.3f} | "
            f"{small['load_s']:.1f} | - |"
        )
    print(
        f"| speech service (REST, official client) | base | 5 | {served['wer']:.1%} | "
        f"{served['rtf']:.3f} | {served['start_s']:.1f} (to first health answer) | "
        f"{served['rss_mb']:.0f} after load, {served['rss_after_mb']:.0f} after the clips |"
    )
    print("| pocketsphinx | - | - | not measured (not installed) | | | |")  # fmt: skip
    print(f"\nservice overhead on the real-time factor: {overhead:+.1%} (target <= +10%)")
    jobs = _concurrent_jobs(clips)
    print(
        f"{jobs['jobs']} concurrent long-running jobs of {jobs['audio_s']:.1f} s each by gs:// "
        f"uri, 2 workers: all done in {jobs['wall_s']:.1f} s "
        f"({jobs['audio_per_wall']:.2f} s of audio a second; RSS {jobs['rss_mb']:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
