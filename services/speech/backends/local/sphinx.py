"""PocketSphinx, the light fallback engine (`SPEECH_ENGINE=pocketsphinx`): CMU's US English
acoustic model and language model ship inside the `pocketsphinx` wheel (41 MB), it loads in
about a second and needs ~100 MB. English only; measured WER is far above Whisper's
(`bench/speech.py`), so it is for machines that cannot hold Whisper.

Results: one utterance per stretch of speech between pauses of `PAUSE_S` or more; word times
from its segmentation (10 ms frames); confidence from the segment posteriors. Phrases
(`speechContexts`) are not used: PocketSphinx has no prompt, and boosting its language model
is not offered here.
"""

from __future__ import annotations

import re
import threading

import numpy as np

from services.speech.backends.local.whisper import Options, Utterance, Word
from shared.errors import invalid_argument

PAUSE_S = 0.6
FRAME_S = 0.01
_FILLER = re.compile(r"^(<s>|</s>|<sil>|\[.*\]|\+.*\+)$")
_ALTERNATE = re.compile(r"\(\d+\)$")


class Sphinx:
    """One decoder per process; decoding is serialised (a Decoder is not thread-safe)."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self._decoder = Decoder(samprate=16000)
        # Protects `_decoder`: one utterance at a time.
        self._lock = threading.Lock()

    def transcribe(self, samples: np.ndarray, options: Options) -> list[Utterance]:
        if options.language not in (None, "en"):
            raise invalid_argument(
                "The pocketsphinx engine recognises English only; set SPEECH_ENGINE=whisper "
                "for other languages."
            )
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        with self._lock:
            decoder = self._decoder
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            logmath = decoder.get_logmath()
            segments = [
                (s.word, s.start_frame * FRAME_S, (s.end_frame + 1) * FRAME_S, logmath.exp(s.prob))
                for s in decoder.seg()
            ]
        return _utterances(segments)


def _utterances(segments: list[tuple[str, float, float, float]]) -> list[Utterance]:
    found: list[Utterance] = []
    words: list[Word] = []
    pause_from = None

    def close() -> None:
        if words:
            text = " " + " ".join(w.text for w in words)
            confidence = float(np.mean([w.probability for w in words]))
            found.append(Utterance(text, words[0].start, words[-1].end, confidence, tuple(words)))
            words.clear()

    for word, start, end, probability in segments:
        if _FILLER.match(word):
            pause_from = start if pause_from is None else pause_from
            if end - pause_from >= PAUSE_S:
                close()
            continue
        pause_from = None
        words.append(Word(_ALTERNATE.sub("", word), start, end, min(1.0, probability)))
    close()
    return found


_engine: Sphinx | None = None
# Protects `_engine`'s creation.
_engine_lock = threading.Lock()


def load() -> Sphinx:
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Sphinx()
        return _engine
