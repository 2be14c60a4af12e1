"""The local backend's decoding, cutting and text handling, without the model: table-driven,
on generated signals."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from services.speech.backends.local import _chunks, _quiet_cut, audio, text
from shared.errors import ApiError


def _tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.stack([mono * (c + 1) / channels for c in range(channels)], axis=1)


def _encode(samples: np.ndarray, rate: int, fmt: str, subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def _open(data: bytes, **fmt) -> audio.AudioStream:
    return audio.open_stream(io.BytesIO(data), audio.Format(**fmt))


@pytest.mark.parametrize(
    ("container", "subtype", "encoding"),
    [("WAV", "PCM_16", ""), ("WAV", "PCM_16", "LINEAR16"), ("FLAC", None, ""),
     ("FLAC", None, "FLAC"), ("MP3", "MPEG_LAYER_III", "MP3"), ("OGG", "OPUS", "OGG_OPUS")],
)  # fmt: skip
@pytest.mark.parametrize("rate", [8000, 16000, 48000])
def test_containers_decode_to_16khz(container, subtype, encoding, rate):
    if subtype == "OPUS" and rate not in (8000, 16000, 48000):
        pytest.skip("opus rates")
    stream = _open(_encode(_tone(1.0, rate), rate, container, subtype), encoding=encoding)
    samples = stream.read_all()
    assert samples.shape[1] == 1
    assert abs(len(samples) / audio.TARGET_RATE - 1.0) < 0.1  # codec padding aside
    assert 0.15 < np.abs(samples).max() < 0.4


@pytest.mark.parametrize(("encoding", "subtype"), [("MULAW", "ULAW"), ("ALAW", "ALAW")])
def test_g711_decodes_as_the_reference_codec(encoding, subtype):
    """libsndfile's G.711 codec encodes; ours must decode exactly as libsndfile's does."""
    rate = audio.TARGET_RATE  # no resampling: the decoded samples themselves are compared
    coded = _encode(_tone(0.5, rate), rate, "RAW", subtype)
    reference, _ = soundfile.read(
        io.BytesIO(coded), samplerate=rate, channels=1, format="RAW", subtype=subtype,
        dtype="int16",
    )  # fmt: skip
    stream = _open(coded, encoding=encoding, sample_rate=rate)
    assert stream.rate == rate
    assert stream.duration_s == pytest.approx(0.5)
    decoded = stream.read_all()[:, 0]
    assert np.array_equal(np.round(decoded * 32768).astype(np.int16), reference)


def test_linear16_headerless_multichannel():
    pcm = (_tone(1.0, 16000, channels=2) * 32767).astype("<i2").tobytes()
    stream = _open(pcm, encoding="LINEAR16", sample_rate=16000, channels=2)
    samples = stream.read_all()
    assert samples.shape == (16000, 2)
    assert np.abs(samples[:, 1]).max() > np.abs(samples[:, 0]).max()


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ({"sample_rate": 8000}, "match the value in the WAV header ( 16000)"),
        ({"encoding": "FLAC"}, "Specify LINEAR16 encoding to match file header."),
        ({"channels": 2}, "audio_channel_count (2)"),
    ],
)
def test_header_contradictions(fmt, message):
    with pytest.raises(ApiError) as caught:
        _open(_encode(_tone(0.2, 16000), 16000, "WAV", "PCM_16"), **fmt)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"fLaC" + bytes(range(200)), {}),
        (b"RIFF\x00\x00\x00\x00WAVEjunkjunk", {}),
        (bytes(range(256)) * 4, {"encoding": "MP3"}),
        (bytes(range(256)) * 4, {"encoding": "WEBM_OPUS"}),
        (b"\x00\x01" * 100, {"encoding": "LINEAR16"}),  # no sampleRateHertz
        (b"\x00\x01" * 100, {}),  # no header, no encoding
        (b"\x00\x01" * 100, {"encoding": "AMR"}),
        (b"\x00\x01" * 100, {"encoding": "LINEAR16", "sample_rate": 2147483647}),
        (b"\x00\x01" * 100, {"encoding": "MULAW", "sample_rate": 1}),
    ],
)
def test_undecodable_audio_is_invalid_argument(data, fmt):
    with pytest.raises(ApiError) as caught:
        _open(data, **fmt).read_all()
    assert caught.value.code.name == "INVALID_ARGUMENT"


def test_v2_auto_decoding_takes_any_channel_count():
    stream = _open(_encode(_tone(0.3, 22050, 2), 22050, "WAV", "PCM_16"), auto=True)
    assert stream.channels == 2
    assert stream.read_all().shape[1] == 2


def test_long_audio_is_cut_at_quiet_moments():
    rate = audio.TARGET_RATE
    # 25 s of tone with a 0.3 s pause at 9.0 s: a 10 s chunk is cut inside the pause.
    signal = _tone(25.0, rate)
    signal[int(9.0 * rate) : int(9.3 * rate)] = 0.0
    pcm = (signal * 32767).astype("<i2").tobytes()
    stream = _open(pcm, encoding="LINEAR16", sample_rate=rate)
    pieces = list(_chunks(stream, 10.0))
    assert 9.0 <= pieces[1][0] <= 9.3
    assert sum(len(p) for _, p in pieces) == len(signal)
    starts = [start for start, _ in pieces]
    assert starts == sorted(starts)


def test_quiet_cut_of_a_short_buffer_is_its_end():
    assert _quiet_cut(np.zeros((100, 1), np.float32)) == 100


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("Hello, world.", "Hello world"),
        (' "Isn\'t it ill-disposed?" she said.', " Isn't it ill-disposed she said"),
        ("Wait - what?!", "Wait what"),
    ],
)
def test_unpunctuate(raw, plain):
    assert text.unpunctuate(raw) == plain


def test_profanity_is_masked_as_google_masks_it():
    assert text.mask_profanity("Oh shit, what the Fuck.") == "Oh s***, what the F***."


@pytest.mark.parametrize(
    ("code", "whisper"), [("en-US", "en"), ("cmn-Hans-CN", "zh"), ("iw-IL", "he"), ("fr", "fr")]
)
def test_language_codes(code, whisper):
    assert text.whisper_language(code) == whisper


def _webm_opus(samples: np.ndarray, rate: int = 48000) -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=rate, layout="mono")
        for i in range(0, len(samples), 960):
            block = samples[i : i + 960].astype(np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
            frame.rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def test_webm_opus_decodes_through_pyav():
    stream = _open(_webm_opus(_tone(1.0, 48000)[:, 0]), encoding="WEBM_OPUS")
    samples = stream.read_all()
    assert stream.rate == audio.TARGET_RATE
    assert abs(len(samples) / audio.TARGET_RATE - 1.0) < 0.05
    assert 0.25 < np.abs(samples).max() < 0.35
