"""One recognition, whichever API version asked for it: the request in engine-neutral terms
(`Job`, from v1's `RecognitionConfig` + `RecognitionAudio` or v2's `RecognizeRequest`), and
what came back (`Transcription`) turned into v1's or v2's result types.

Results are split per utterance, as Google splits them: one result per Whisper segment (a
sentence or a phrase), `resultEndTime` its end; with separate recognition per channel, each
channel's results carry `channelTag` 1..N. The first transcript starts without a space and
later ones keep Whisper's leading space, as Google's do, so joining them gives the text.
"""

from __future__ import annotations

import dataclasses
import datetime
import math

from services.speech.backends.local import text
from services.speech.backends.local.audio import Format
from services.speech.backends.local.whisper import Utterance
from shared.errors import invalid_argument, unimplemented
from shared.gapictypes import message_types

speech = message_types("google.cloud.speech_v1")
speech_v2 = message_types("google.cloud.speech_v2")


@dataclasses.dataclass(frozen=True)
class Job:
    fmt: Format
    content: bytes | None
    uri: str | None
    language_code: str  # as requested ("en-US"); "auto": detect (v2)
    separate_channels: bool = False
    profanity_filter: bool = False
    word_time_offsets: bool = False
    word_confidence: bool = False
    punctuation: bool = False
    phrases: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Transcription:
    results: list[tuple[int, Utterance]]  # (channel tag, 0 when not separated; utterance)
    duration_s: float
    channels_recognised: int
    language_code: str  # lower case, as Google returns it

    @property
    def billed_seconds(self) -> int:
        return math.ceil(self.duration_s) * self.channels_recognised


def _audio_source(content: bytes, uri: str, has_content: bool) -> tuple[bytes | None, str | None]:
    if has_content:
        return content, None
    return None, uri or None


def from_v1(config: speech.RecognitionConfig, audio: speech.RecognitionAudio) -> Job:
    if config.diarization_config.enable_speaker_diarization:
        raise unimplemented(
            "Speaker diarization (diarizationConfig) is not available with the local backend: "
            "no offline diarization engine ships in a wheel or a Debian package. Set "
            "SPEECH_ML_BACKEND=cloud to have Speech-to-Text answer it."
        )
    if not config.language_code:
        raise invalid_argument("Invalid recognition 'config': language_code is required.")
    encoding = speech.RecognitionConfig.AudioEncoding(config.encoding).name
    has_content = "content" in audio
    content, uri = _audio_source(audio.content, audio.uri, has_content)
    phrases = [p for c in config.speech_contexts for p in c.phrases]
    phrases += [p.value for s in config.adaptation.phrase_sets for p in s.phrases]
    return Job(
        fmt=Format(
            encoding="" if encoding == "ENCODING_UNSPECIFIED" else encoding,
            sample_rate=config.sample_rate_hertz,
            channels=config.audio_channel_count,
        ),
        content=content,
        uri=uri,
        language_code=config.language_code,
        separate_channels=config.enable_separate_recognition_per_channel
        and config.audio_channel_count > 1,
        profanity_filter=config.profanity_filter,
        word_time_offsets=config.enable_word_time_offsets,
        word_confidence=config.enable_word_confidence,
        punctuation=config.enable_automatic_punctuation,
        phrases=tuple(phrases),
    )


def from_v2(request: speech_v2.RecognizeRequest) -> Job:
    config = request.config
    features = config.features
    diarization = features.diarization_config
    if diarization.min_speaker_count or diarization.max_speaker_count:
        raise unimplemented(
            "Speaker diarization (features.diarizationConfig) is not available with the local "
            "backend. Set SPEECH_ML_BACKEND=cloud to have Speech-to-Text answer it."
        )
    if not config.language_codes:
        raise invalid_argument("Invalid recognition 'config': language_codes is required.")
    if "explicit_decoding_config" in config:
        explicit = config.explicit_decoding_config
        encoding = speech_v2.ExplicitDecodingConfig.AudioEncoding(explicit.encoding).name
        fmt = Format(
            encoding="" if encoding == "AUDIO_ENCODING_UNSPECIFIED" else encoding,
            sample_rate=explicit.sample_rate_hertz,
            channels=explicit.audio_channel_count,
        )
        if not fmt.encoding:
            raise invalid_argument("explicitDecodingConfig.encoding is required.")
    elif "auto_decoding_config" in config:
        fmt = Format(auto=True, channels=0)
    else:
        raise invalid_argument(
            "Invalid recognition 'config': one of autoDecodingConfig or explicitDecodingConfig "
            "is required."
        )
    separate = (
        features.multi_channel_mode
        == speech_v2.RecognitionFeatures.MultiChannelMode.SEPARATE_RECOGNITION_PER_CHANNEL
    )
    phrases = [p.value for s in config.adaptation.phrase_sets for p in s.inline_phrase_set.phrases]
    has_content = "content" in request
    content, uri = _audio_source(request.content, request.uri, has_content)
    return Job(
        fmt=fmt,
        content=content,
        uri=uri,
        language_code=config.language_codes[0],
        separate_channels=separate,
        profanity_filter=features.profanity_filter,
        word_time_offsets=features.enable_word_time_offsets,
        word_confidence=features.enable_word_confidence,
        punctuation=features.enable_automatic_punctuation,
        phrases=tuple(phrases),
    )


def _delta(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(milliseconds=round(seconds * 1000))


def _shown(job: Job, utterance_text: str) -> str:
    shown = utterance_text if job.punctuation else text.unpunctuate(utterance_text)
    return text.mask_profanity(shown) if job.profanity_filter else shown


def _transcript(job: Job, utterance: Utterance, first: bool) -> str:
    shown = _shown(job, utterance.text)
    return shown.lstrip() if first else " " + shown.strip()


def _words(job: Job, utterance: Utterance) -> list[tuple[str, float, float, float]]:
    found = []
    for word in utterance.words:
        shown = _shown(job, word.text).strip()
        if shown:
            found.append((shown, word.start, word.end, word.probability))
    return found


def to_v1(job: Job, result: Transcription) -> list[speech.SpeechRecognitionResult]:
    out = []
    seen: set[int] = set()
    for channel, utterance in result.results:
        alternative = speech.SpeechRecognitionAlternative(
            transcript=_transcript(job, utterance, channel not in seen),
            confidence=utterance.confidence,
        )
        seen.add(channel)
        if job.word_time_offsets or job.word_confidence:
            for word, start, end, probability in _words(job, utterance):
                info = speech.WordInfo(word=word)
                if job.word_time_offsets:
                    info.start_time = _delta(start)
                    info.end_time = _delta(end)
                if job.word_confidence:
                    info.confidence = probability
                alternative.words.append(info)
        out.append(
            speech.SpeechRecognitionResult(
                alternatives=[alternative],
                channel_tag=channel,
                result_end_time=_delta(utterance.end),
                language_code=result.language_code,
            )
        )
    return out


def to_v2(job: Job, result: Transcription) -> list[speech_v2.SpeechRecognitionResult]:
    out = []
    seen: set[int] = set()
    for channel, utterance in result.results:
        alternative = speech_v2.SpeechRecognitionAlternative(
            transcript=_transcript(job, utterance, channel not in seen),
            confidence=utterance.confidence,
        )
        seen.add(channel)
        if job.word_time_offsets or job.word_confidence:
            for word, start, end, probability in _words(job, utterance):
                info = speech_v2.WordInfo(word=word)
                if job.word_time_offsets:
                    info.start_offset = _delta(start)
                    info.end_offset = _delta(end)
                if job.word_confidence:
                    info.confidence = probability
                alternative.words.append(info)
        out.append(
            speech_v2.SpeechRecognitionResult(
                alternatives=[alternative],
                channel_tag=channel,
                result_end_offset=_delta(utterance.end),
                language_code=result.language_code,
            )
        )
    return out
