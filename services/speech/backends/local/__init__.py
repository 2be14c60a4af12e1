"""The `local` backend: Speech-to-Text answered offline by faster-whisper (Whisper base by
default, from wheels; see `whisper.py` and `services/speech/MODELS.md`), or by PocketSphinx
(`SPEECH_ENGINE=pocketsphinx`, the light English-only fallback; see `sphinx.py`).

Request fields, v1 (`RecognitionConfig`) and v2 (`RecognitionConfig.features`):

- honoured: `encoding` (LINEAR16, FLAC, MULAW, MP3, OGG_OPUS, WEBM_OPUS; ALAW in v2; WAV and
  FLAC headers read when unspecified; v2 `autoDecodingConfig` reads any of these containers),
  `sampleRateHertz` and `audioChannelCount` (checked against the header, as Google does),
  `enableSeparateRecognitionPerChannel` / v2 `multiChannelMode` (one result list per channel,
  `channelTag` 1..N; otherwise only the first channel is recognised, as Google does),
  `languageCode` / `languageCodes[0]` (any language Whisper knows; results carry it in lower
  case; v2 `auto` detects), `enableWordTimeOffsets`, `enableWordConfidence` (Whisper's word
  probabilities), `enableAutomaticPunctuation` (Whisper punctuates; without it punctuation is
  removed), `profanityFilter` (a fixed English list, masked as Google masks: "f***");
- approximated: `speechContexts[].phrases` and `adaptation` inline phrases become Whisper's
  initial prompt (a bias, not Google's boost); `maxAlternatives`: one alternative always (Google
  too may return fewer); `confidence` is exp(mean token log-probability) of the segment;
  `model`, `useEnhanced`, `metadata`, `alternativeLanguageCodes` are accepted and ignored;
- v2 `batchRecognize`: each file as a long-running job by uri, on the same operations
  machinery (`services/speech/operations.py`), results inline or as
  `{gcsOutputConfig.uri}/{file}_transcript_{uuid}.json`; `configMask` and
  `processingStrategy` are not applied, `outputFormatConfig` (VTT, SRT) is ignored;
- UNIMPLEMENTED: `diarizationConfig` (no honest offline diarization engine ships in a wheel or
  a Debian package).

Limits as Google's (`services/speech/limits.py`): sync audio at most 1 minute and 10 MB,
long-running inline audio at most 1 minute, by `uri` at most 480 minutes. Long audio is read
from storage and recognised `SPEECH_CHUNK_SECONDS` at a time, each cut at the quietest moment
near its end, with progress reported after each chunk.
"""

from __future__ import annotations

import io
import random
import uuid
from collections.abc import Callable, Iterator
from typing import IO

import numpy as np

from services.speech import limits
from services.speech.backends.local import audio, job, sphinx, text, whisper
from services.speech.settings import SpeechSettings
from shared import protojson
from shared.errors import ApiError, invalid_argument, not_found
from shared.gapictypes import message_types
from shared.storage import Storage

speech = message_types("google.cloud.speech_v1")
speech_v2 = message_types("google.cloud.speech_v2")

Progress = Callable[[float], None]

# Long audio is cut at the quietest 100 ms in the last QUIET_SEARCH_S of each chunk, so a word
# is rarely split between two chunks.
QUIET_SEARCH_S = 5.0
FRAME_S = 0.1
READ_BLOCK_BYTES = 4 * 1024 * 1024


def request_id() -> int:
    """Google's request ids are int64s (serialised as strings)."""
    return random.getrandbits(62) + 1


class LocalBackend:
    def __init__(self, settings: SpeechSettings, storage: Storage) -> None:
        self._settings = settings
        self._storage = storage
        if settings.prewarm:
            self.model()

    def model(self) -> whisper.Loaded | sphinx.Sphinx:
        s = self._settings
        if s.engine == "pocketsphinx":
            return sphinx.load()
        return whisper.load(s.model, s.compute_type, s.cpu_threads)

    def _transcribe(self, engine, samples: np.ndarray, options: whisper.Options):
        if isinstance(engine, sphinx.Sphinx):
            return engine.transcribe(samples, options)
        return whisper.transcribe(engine, samples, options)

    # v1 -------------------------------------------------------------------------------------

    def recognize(self, request: speech.RecognizeRequest) -> speech.RecognizeResponse:
        work = job.from_v1(request.config, request.audio)
        stream = self._open(work)
        limits.check_sync(stream.duration_s, len(work.content or b""))
        result = self._run(work, stream, None)
        return speech.RecognizeResponse(
            results=job.to_v1(work, result),
            total_billed_time={"seconds": result.billed_seconds},
            request_id=request_id(),
        )

    def check_long_running(self, request: speech.LongRunningRecognizeRequest) -> None:
        """Before an operation is made: inline audio over 1 minute, or audio that does not
        decode, is answered at once (as Google does), not as a failed operation."""
        work = job.from_v1(request.config, request.audio)
        if work.content is not None:
            limits.check_long_running(self._open(work).duration_s, inline=True)
        else:
            self._language(work.language_code)

    def long_running_recognize(
        self, request: speech.LongRunningRecognizeRequest, progress: Progress | None = None
    ) -> speech.LongRunningRecognizeResponse:
        work = job.from_v1(request.config, request.audio)
        stream = self._open(work)
        limits.check_long_running(stream.duration_s, work.content is not None)
        result = self._run(work, stream, progress)
        return speech.LongRunningRecognizeResponse(
            results=job.to_v1(work, result),
            total_billed_time={"seconds": result.billed_seconds},
            request_id=request_id(),
        )

    # v2 -------------------------------------------------------------------------------------

    def recognize_v2(self, request: speech_v2.RecognizeRequest) -> speech_v2.RecognizeResponse:
        self._check_recognizer(request.recognizer)
        work = job.from_v2(request)
        stream = self._open(work)
        limits.check_sync(stream.duration_s, len(work.content or b""))
        result = self._run(work, stream, None)
        return speech_v2.RecognizeResponse(
            results=job.to_v2(work, result),
            metadata=speech_v2.RecognitionResponseMetadata(
                total_billed_duration={"seconds": result.billed_seconds},
                request_id=str(request_id()),
            ),
        )

    def check_batch(self, request: speech_v2.BatchRecognizeRequest) -> None:
        """Before an operation is made: the recognizer and the shared config."""
        self._check_recognizer(request.recognizer)
        work = job.from_v2(speech_v2.RecognizeRequest(config=request.config, uri="gs://x/y"))
        self._language(work.language_code)

    def batch_recognize(
        self, request: speech_v2.BatchRecognizeRequest, progress: Progress | None = None
    ) -> speech_v2.BatchRecognizeResponse:
        """Each file as a long-running recognition by uri (up to 480 minutes), one after the
        other; a file that fails gets its `error` and the others are still done. A file's
        own `config` replaces the request's (`configMask` is not applied)."""
        results: dict[str, speech_v2.BatchRecognizeFileResult] = {}
        billed = 0
        count = len(request.files)
        for index, file in enumerate(request.files):

            def step(percent: float, index: int = index) -> None:
                if progress is not None:
                    progress((index + percent / 100.0) * 100.0 / count)

            config = file.config if "config" in file else request.config
            single = speech_v2.RecognizeRequest(
                recognizer=request.recognizer, config=config, uri=file.uri
            )
            try:
                found, seconds = self._batch_file(request, single, step)
            except ApiError as error:
                if error.retryable:
                    raise
                found, seconds = speech_v2.BatchRecognizeFileResult(error=error.to_status()), 0
            results[file.uri] = found
            billed += seconds
            step(100.0)
        return speech_v2.BatchRecognizeResponse(
            results=results, total_billed_duration={"seconds": billed}
        )

    def _batch_file(
        self,
        request: speech_v2.BatchRecognizeRequest,
        single: speech_v2.RecognizeRequest,
        progress: Progress,
    ) -> tuple[speech_v2.BatchRecognizeFileResult, int]:
        work = job.from_v2(single)
        stream = self._open(work)
        limits.check_long_running(stream.duration_s, inline=False)
        result = self._run(work, stream, progress)
        metadata = speech_v2.RecognitionResponseMetadata(
            total_billed_duration={"seconds": result.billed_seconds},
            request_id=str(request_id()),
        )
        transcript = speech_v2.BatchRecognizeResults(
            results=job.to_v2(work, result), metadata=metadata
        )
        output = request.recognition_output_config
        found = speech_v2.BatchRecognizeFileResult(metadata=metadata)
        if "gcs_output_config" in output:
            stem = single.uri.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            target = (
                f"{output.gcs_output_config.uri.rstrip('/')}/{stem}_transcript_{uuid.uuid4()}.json"
            )
            self._storage.write(target, protojson.to_json(transcript), "application/json")
            found.cloud_storage_result = speech_v2.CloudStorageResult(uri=target)
        else:
            found.inline_result = speech_v2.InlineResult(transcript=transcript)
        return found, result.billed_seconds

    def close(self) -> None:
        pass

    # the work -------------------------------------------------------------------------------

    def _check_recognizer(self, recognizer: str) -> None:
        if not recognizer.endswith("/recognizers/_"):
            raise not_found(
                f"Unable to find Recognizer {recognizer}: the local backend serves only the "
                "implicit recognizer '_' (configure each request instead)."
            )

    def _open(self, work: job.Job) -> audio.AudioStream:
        if work.content is not None:
            if not work.content:
                raise invalid_argument(limits.NO_AUDIO)
            return audio.open_stream(io.BytesIO(work.content), work.fmt)
        if not work.uri:
            raise invalid_argument(limits.NO_AUDIO)
        found = self._storage.expand(work.uri)
        if not found or found[0].uri != work.uri:
            raise not_found(f"No such object: {work.uri}.")
        reader = self._storage.open_reader(found[0], READ_BLOCK_BYTES)
        return audio.open_stream(_Tellable(reader), work.fmt)

    def _run(
        self, work: job.Job, stream: audio.AudioStream, progress: Progress | None
    ) -> job.Transcription:
        language = self._language(work.language_code)
        loaded = self.model()
        channels = list(range(stream.channels)) if work.separate_channels else [0]
        options = whisper.Options(
            language=language,
            word_timestamps=work.word_time_offsets or work.word_confidence,
            prompt=", ".join(work.phrases) or None,
            beam_size=self._settings.beam_size,
        )
        found: list[tuple[int, whisper.Utterance]] = []
        total = max(stream.duration_s, 1e-9)
        done_s = 0.0
        for start_s, block in _chunks(stream, self._settings.chunk_seconds):
            if options.language is None and isinstance(loaded, whisper.Loaded):
                detected = whisper.detect_language(loaded, block[:, 0])
                options = whisper.Options(detected, options.word_timestamps, options.prompt,
                                          options.beam_size)  # fmt: skip
            for channel in channels:
                for utterance in self._transcribe(loaded, block[:, channel], options):
                    tag = channel + 1 if work.separate_channels else 0
                    found.append((tag, _shifted(utterance, start_s)))
            done_s = start_s + len(block) / audio.TARGET_RATE
            if progress is not None:
                progress(min(99.0, 100.0 * done_s / total))
        found.sort(key=lambda item: (item[1].end, item[0]))
        code = work.language_code if language is not None else (options.language or "und")
        return job.Transcription(
            results=found,
            duration_s=max(stream.duration_s, done_s),
            channels_recognised=len(channels),
            language_code=code.lower(),
        )

    def _language(self, code: str) -> str | None:
        if code.lower() == "auto":
            return None
        language = text.whisper_language(code)
        if language not in whisper.languages():
            raise invalid_argument("Invalid recognition 'config': bad language code.")
        return language


def _shifted(utterance: whisper.Utterance, offset: float) -> whisper.Utterance:
    if not offset:
        return utterance
    words = tuple(
        whisper.Word(w.text, w.start + offset, w.end + offset, w.probability)
        for w in utterance.words
    )
    return whisper.Utterance(
        utterance.text, utterance.start + offset, utterance.end + offset, utterance.confidence,
        words,
    )  # fmt: skip


def _chunks(stream: audio.AudioStream, seconds: float) -> Iterator[tuple[float, np.ndarray]]:
    """(start second, samples at 16 kHz) of about `seconds` each, cut at quiet moments."""
    rate = audio.TARGET_RATE
    carry: np.ndarray | None = None
    start = 0
    for block in stream.blocks(seconds):
        buffer = block if carry is None else np.concatenate([carry, block])
        cut = len(buffer)
        if len(buffer) >= 0.9 * seconds * rate:
            cut = _quiet_cut(buffer)
        yield start / rate, buffer[:cut]
        start += cut
        carry = buffer[cut:]
    if carry is not None and len(carry):
        yield start / rate, carry


def _quiet_cut(buffer: np.ndarray) -> int:
    """The sample index in the middle of the quietest 100 ms of the buffer's last seconds."""
    rate = audio.TARGET_RATE
    frame = int(FRAME_S * rate)
    search = min(len(buffer), int(QUIET_SEARCH_S * rate))
    tail = buffer[len(buffer) - search :].mean(axis=1)
    frames = len(tail) // frame
    if frames < 2:
        return len(buffer)
    energy = (tail[: frames * frame].reshape(frames, frame) ** 2).mean(axis=1)
    quietest = int(np.argmin(energy))
    return len(buffer) - search + quietest * frame + frame // 2


class _Tellable:
    """A storage reader with `tell`, which libsndfile's virtual I/O asks for."""

    def __init__(self, reader: IO[bytes]) -> None:
        self._reader = reader
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        data = self._reader.read(size)
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = self._reader.seek(offset, whence)
        return self._position

    def tell(self) -> int:
        return self._position
