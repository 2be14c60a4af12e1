"""`recognize` through the official client over REST, on real human speech (LibriVox
recordings from Debian's pocketsphinx-testdata), in every encoding the local backend reads."""

from __future__ import annotations

import io

import numpy as np
import soundfile
from google.cloud import speech_v1 as speech
from google.cloud import speech_v2

from tests.services.speech.conftest import normalise, word_error_rate

Encoding = speech.RecognitionConfig.AudioEncoding


def _config(**fields) -> speech.RecognitionConfig:
    return speech.RecognitionConfig(language_code="en-US", **fields)


def _text(response) -> str:
    return "".join(r.alternatives[0].transcript for r in response.results)


def _samples(clip) -> tuple[np.ndarray, int]:
    data, rate = soundfile.read(clip.path, dtype="int16")
    return data, rate


def test_librivox_word_error_rate(client, testdata):
    clips = testdata.librivox
    hypotheses = []
    for clip in clips:
        response = client.recognize(
            config=_config(), audio=speech.RecognitionAudio(content=clip.data)
        )
        assert response.results, clip.path.name
        assert response.results[0].language_code == "en-us"
        assert response.total_billed_time.total_seconds() >= 1
        assert response.request_id > 0
        hypotheses.append(_text(response))
    wer = word_error_rate([c.transcript for c in clips], hypotheses)
    assert wer <= 0.10, (wer, hypotheses)


def test_word_offsets_monotonic_and_inside_the_audio(client, testdata):
    clip = testdata.librivox[0]
    duration = soundfile.info(clip.path).duration
    response = client.recognize(
        config=_config(enable_word_time_offsets=True, enable_word_confidence=True),
        audio=speech.RecognitionAudio(content=clip.data),
    )
    words = [w for r in response.results for w in r.alternatives[0].words]
    assert len(words) >= 15
    previous_end = 0.0
    for word in words:
        start, end = word.start_time.total_seconds(), word.end_time.total_seconds()
        assert previous_end - 1e-6 <= start <= end <= duration + 0.05, word
        assert 0.0 < word.confidence <= 1.0
        previous_end = end
    assert response.results[-1].result_end_time.total_seconds() <= duration + 0.05
    assert normalise(" ".join(w.word for w in words)) == normalise(_text(response))


def test_punctuation_only_when_asked(client, testdata):
    audio = speech.RecognitionAudio(content=testdata.librivox[3].data)
    plain = _text(client.recognize(config=_config(), audio=audio))
    punctuated = _text(
        client.recognize(config=_config(enable_automatic_punctuation=True), audio=audio)
    )
    assert not any(mark in plain for mark in ".,?!")
    assert any(mark in punctuated for mark in ".,")
    assert normalise(plain) == normalise(punctuated)


def test_flac_decodes(client, testdata):
    clip = testdata.librivox[1]
    data, rate = _samples(clip)
    buffer = io.BytesIO()
    soundfile.write(buffer, data, rate, format="FLAC")
    for encoding in (Encoding.FLAC, Encoding.ENCODING_UNSPECIFIED):
        response = client.recognize(
            config=_config(encoding=encoding),
            audio=speech.RecognitionAudio(content=buffer.getvalue()),
        )
        assert word_error_rate([clip.transcript], [_text(response)]) <= 0.15


def test_mulaw_headerless_at_8khz_decodes(client, testdata):
    clip = testdata.librivox[2]
    data, rate = soundfile.read(clip.path, dtype="float32")
    from scipy.signal import resample_poly

    narrow = resample_poly(data, 1, 2)
    buffer = io.BytesIO()
    soundfile.write(buffer, narrow, rate // 2, format="RAW", subtype="ULAW")
    response = client.recognize(
        config=_config(encoding=Encoding.MULAW, sample_rate_hertz=rate // 2),
        audio=speech.RecognitionAudio(content=buffer.getvalue()),
    )
    assert word_error_rate([clip.transcript], [_text(response)]) <= 0.2


def test_mp3_decodes(client, testdata):
    clip = testdata.librivox[4]
    data, rate = _samples(clip)
    buffer = io.BytesIO()
    soundfile.write(buffer, data, rate, format="MP3", subtype="MPEG_LAYER_III")
    response = client.recognize(
        config=_config(encoding=Encoding.MP3, sample_rate_hertz=rate),
        audio=speech.RecognitionAudio(content=buffer.getvalue()),
    )
    assert word_error_rate([clip.transcript], [_text(response)]) <= 0.15


def test_linear16_headerless(client, testdata):
    clip = testdata.goforward_raw
    response = client.recognize(
        config=_config(encoding=Encoding.LINEAR16, sample_rate_hertz=16000),
        audio=speech.RecognitionAudio(content=clip.data),
    )
    assert normalise(_text(response)) == clip.transcript


def test_ogg_opus_decodes(client, testdata):
    clip = testdata.librivox[1]
    data, _rate = soundfile.read(clip.path, dtype="float32")
    from scipy.signal import resample_poly

    buffer = io.BytesIO()
    soundfile.write(buffer, resample_poly(data, 3, 1), 48000, format="OGG", subtype="OPUS")
    response = client.recognize(
        config=_config(encoding=Encoding.OGG_OPUS, sample_rate_hertz=48000),
        audio=speech.RecognitionAudio(content=buffer.getvalue()),
    )
    assert word_error_rate([clip.transcript], [_text(response)]) <= 0.15


def _stereo(left, right) -> bytes:
    a, rate = _samples(left)
    b, _ = _samples(right)
    frames = max(len(a), len(b))
    stereo = np.zeros((frames, 2), dtype=np.int16)
    stereo[: len(a), 0] = a
    stereo[: len(b), 1] = b
    buffer = io.BytesIO()
    soundfile.write(buffer, stereo, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def test_stereo_separate_recognition_per_channel(client, testdata):
    left, right = testdata.librivox[1], testdata.librivox[4]
    response = client.recognize(
        config=_config(audio_channel_count=2, enable_separate_recognition_per_channel=True),
        audio=speech.RecognitionAudio(content=_stereo(left, right)),
    )
    by_channel = {}
    for result in response.results:
        by_channel.setdefault(result.channel_tag, []).append(result.alternatives[0].transcript)
    assert sorted(by_channel) == [1, 2]
    assert word_error_rate([left.transcript], ["".join(by_channel[1])]) <= 0.15
    assert word_error_rate([right.transcript], ["".join(by_channel[2])]) <= 0.15
    assert response.total_billed_time.total_seconds() >= 2 * 2


def test_stereo_without_separation_recognises_the_first_channel(client, testdata):
    left, right = testdata.librivox[1], testdata.librivox[4]
    response = client.recognize(
        config=_config(audio_channel_count=2),
        audio=speech.RecognitionAudio(content=_stereo(left, right)),
    )
    assert {r.channel_tag for r in response.results} == {0}
    assert word_error_rate([left.transcript], [_text(response)]) <= 0.15


def test_speech_contexts_are_accepted(client, testdata):
    clip = testdata.cards[0]
    response = client.recognize(
        config=_config(speech_contexts=[speech.SpeechContext(phrases=["ten of clubs"])]),
        audio=speech.RecognitionAudio(content=clip.data),
    )
    assert normalise(_text(response)) == clip.transcript


def test_v2_recognize_with_the_implicit_recognizer(client_v2, testdata):
    clip = testdata.librivox[0]
    response = client_v2.recognize(
        request=speech_v2.RecognizeRequest(
            recognizer="projects/test-project/locations/global/recognizers/_",
            config=speech_v2.RecognitionConfig(
                auto_decoding_config=speech_v2.AutoDetectDecodingConfig(),
                language_codes=["en-US"],
                features=speech_v2.RecognitionFeatures(enable_word_time_offsets=True),
            ),
            content=clip.data,
        )
    )
    assert response.results[0].language_code == "en-us"
    text = "".join(r.alternatives[0].transcript for r in response.results)
    assert word_error_rate([clip.transcript], [text]) <= 0.15
    assert response.results[0].alternatives[0].words[0].end_offset.total_seconds() > 0
    assert response.metadata.total_billed_duration.total_seconds() >= 1


def test_v2_explicit_decoding_alaw(client_v2, testdata):
    clip = testdata.librivox[1]
    data, rate = soundfile.read(clip.path, dtype="float32")
    buffer = io.BytesIO()
    soundfile.write(buffer, data, rate, format="RAW", subtype="ALAW")
    Explicit = speech_v2.ExplicitDecodingConfig
    response = client_v2.recognize(
        request=speech_v2.RecognizeRequest(
            recognizer="projects/test-project/locations/global/recognizers/_",
            config=speech_v2.RecognitionConfig(
                explicit_decoding_config=Explicit(
                    encoding=Explicit.AudioEncoding.ALAW,
                    sample_rate_hertz=rate,
                    audio_channel_count=1,
                ),
                language_codes=["en-US"],
            ),
            content=buffer.getvalue(),
        )
    )
    text = "".join(r.alternatives[0].transcript for r in response.results)
    assert word_error_rate([clip.transcript], [text]) <= 0.15
