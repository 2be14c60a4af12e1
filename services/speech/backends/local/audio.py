"""Audio bytes -> float32 samples at 16 kHz (Whisper's rate), with Google's checks on the way.

Formats, by `encoding` (v1 `RecognitionConfig.AudioEncoding` / v2 `ExplicitDecodingConfig`
names) and by what the bytes start with:

- WAV (RIFF) and FLAC headers are read whatever `encoding` says is unspecified; a header that
  contradicts `sampleRateHertz` or `audioChannelCount` is INVALID_ARGUMENT in Google's words;
- `LINEAR16` without a header: 16-bit little-endian PCM, `sampleRateHertz` required;
- `MULAW`, `ALAW` without a header: G.711, decoded by table (8-bit, `sampleRateHertz` required);
- `MP3`, `OGG_OPUS`: libsndfile (the `soundfile` wheel bundles 1.2, which reads both);
- `WEBM_OPUS` (and anything libsndfile refuses): PyAV (FFmpeg's libraries in its wheel, a
  dependency of faster-whisper).

Long audio is read as a stream (`open_stream`): blocks of a few minutes from a seekable file
(a Cloud Storage reader fetching ranges), so a two-hour file never sits in memory whole; the
exception is WEBM_OPUS, which PyAV decodes whole (16 kHz float32: 230 MB an hour).
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from typing import IO

import numpy as np

from shared.errors import invalid_argument

TARGET_RATE = 16_000

HEADERLESS = ("LINEAR16", "MULAW", "ALAW")

# Google's range for sampleRateHertz; a file's own rate may be higher (it is resampled), but
# an absurd one would make the polyphase filter enormous.
MIN_RATE, MAX_RATE = 8_000, 48_000
MIN_FILE_RATE, MAX_FILE_RATE = 4_000, 192_000


@dataclasses.dataclass(frozen=True)
class Format:
    """What the request says about the audio: the encoding's name ('' when unspecified),
    `sampleRateHertz` (0 when unspecified) and `audioChannelCount` (0 when unspecified)."""

    encoding: str = ""
    sample_rate: int = 0
    channels: int = 0
    # v2's autoDecodingConfig: any container the decoders know, no header required.
    auto: bool = False


class AudioStream:
    """Decoded audio read block by block: `rate`, `channels`, `frames` (total, from the
    header), `blocks(seconds)` -> float32 arrays (frames, channels) at 16 kHz."""

    def __init__(self, rate: int, channels: int, frames: int, reader) -> None:
        self.rate = rate
        self.channels = channels
        self.frames = frames
        self._reader = reader  # callable(n_frames) -> float32 (n, channels), empty at the end

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate if self.rate else 0.0

    def blocks(self, seconds: float) -> Iterator[np.ndarray]:
        size = max(1, int(seconds * self.rate))
        while True:
            block = self._reader(size)
            if block.size == 0:
                return
            yield resample(block, self.rate)

    def read_all(self) -> np.ndarray:
        parts = list(self.blocks(600.0))
        if not parts:
            return np.zeros((0, self.channels), dtype=np.float32)
        return np.concatenate(parts)


def sniff(head: bytes) -> str:
    """The container the first bytes announce: WAV, FLAC, OGG, MP3, WEBM or ''."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "WAV"
    if head[:4] == b"fLaC":
        return "FLAC"
    if head[:4] == b"OggS":
        return "OGG"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "MP3"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "WEBM"
    return ""


def open_stream(source: IO[bytes], fmt: Format) -> AudioStream:
    """The audio in `source` (seekable), checked against `fmt` as Google checks it."""
    if fmt.sample_rate and not MIN_RATE <= fmt.sample_rate <= MAX_RATE:
        raise invalid_argument(
            f"Invalid recognition 'config': sample_rate_hertz ({fmt.sample_rate}) must be "
            f"between {MIN_RATE} and {MAX_RATE} Hz."
        )
    stream = _open_stream(source, fmt)
    if not MIN_FILE_RATE <= stream.rate <= MAX_FILE_RATE:
        raise invalid_argument(
            f"The audio's sample rate ({stream.rate} Hz) is outside what can be recognised "
            f"({MIN_FILE_RATE} to {MAX_FILE_RATE} Hz)."
        )
    return stream


def _open_stream(source: IO[bytes], fmt: Format) -> AudioStream:
    head = source.read(16)
    source.seek(0)
    container = sniff(head)
    if container in ("WAV", "FLAC"):
        return _with_header(source, container, fmt)
    encoding = fmt.encoding
    if not encoding and not fmt.auto:
        raise invalid_argument(
            "RecognitionConfig.encoding is unspecified and the audio has no WAV or FLAC "
            "header: specify the encoding (LINEAR16, MULAW, MP3, OGG_OPUS, WEBM_OPUS...)."
        )
    if encoding in HEADERLESS:
        return _headerless(source, encoding, fmt)
    if encoding in ("MP3", "OGG_OPUS") or (fmt.auto and container in ("MP3", "OGG")):
        try:
            return _soundfile(source, encoding or container)
        except _Undecodable:
            source.seek(0)
    if encoding in ("MP3", "OGG_OPUS", "WEBM_OPUS") or fmt.auto:
        return _pyav(source, encoding or container or "the audio")
    raise invalid_argument(
        f"Encoding {encoding} is not supported by the local backend; use LINEAR16, FLAC, "
        "MULAW, ALAW, MP3, OGG_OPUS or WEBM_OPUS."
    )


def _with_header(source: IO[bytes], container: str, fmt: Format) -> AudioStream:
    import soundfile

    try:
        info = soundfile.info(source)
        source.seek(0)
    except (RuntimeError, soundfile.LibsndfileError):
        raise _undecodable(container) from None
    expected = ("LINEAR16", "MULAW", "ALAW") if container == "WAV" else ("FLAC",)
    if fmt.encoding and fmt.encoding not in expected:
        raise invalid_argument(
            f"Specify {'LINEAR16' if container == 'WAV' else 'FLAC'} encoding to match file header."
        )
    if fmt.sample_rate and fmt.sample_rate != info.samplerate:
        raise invalid_argument(
            f"sample_rate_hertz ({fmt.sample_rate}) in RecognitionConfig must either be omitted "
            f"or match the value in the {container} header ( {info.samplerate})."
        )
    if fmt.auto:
        return _soundfile(source, container)  # v2's auto decoding takes the header's word
    if info.channels > 1 and fmt.channels <= 1:
        raise invalid_argument(
            f"Must use single channel (mono) audio, but {container} header indicates "
            f"{info.channels} channels."
        )
    if fmt.channels > 1 and fmt.channels != info.channels:
        raise invalid_argument(
            f"audio_channel_count ({fmt.channels}) in RecognitionConfig must either be omitted "
            f"or match the value in the {container} header ( {info.channels})."
        )
    return _soundfile(source, container)


class _Undecodable(ValueError):
    pass


def _undecodable(what: str):
    return invalid_argument(
        f"The audio could not be decoded as {what}: the data is corrupt or in another "
        "format. Check the file and RecognitionConfig.encoding."
    )


def _soundfile(source: IO[bytes], what: str) -> AudioStream:
    import soundfile

    try:
        handle = soundfile.SoundFile(source)
    except (RuntimeError, soundfile.LibsndfileError):
        if what in ("WAV", "FLAC"):
            raise _undecodable(what) from None
        raise _Undecodable(what) from None
    frames = handle.frames if handle.frames > 0 else 0

    def read(n: int) -> np.ndarray:
        try:
            return handle.read(n, dtype="float32", always_2d=True)
        except (RuntimeError, soundfile.LibsndfileError):
            raise _undecodable(what) from None

    return AudioStream(handle.samplerate, handle.channels, frames, read)


def _headerless(source: IO[bytes], encoding: str, fmt: Format) -> AudioStream:
    if not fmt.sample_rate:
        raise invalid_argument(
            f"sample_rate_hertz is required in RecognitionConfig for headerless {encoding} audio."
        )
    channels = max(1, fmt.channels)
    width = 2 if encoding == "LINEAR16" else 1
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(0)
    frames = size // (width * channels)
    table = _MULAW if encoding == "MULAW" else _ALAW

    def read(n: int) -> np.ndarray:
        data = source.read(n * width * channels)
        usable = len(data) - len(data) % (width * channels)
        if encoding == "LINEAR16":
            samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
        else:
            samples = table[np.frombuffer(data[:usable], dtype=np.uint8)]
        return samples.reshape(-1, channels)

    return AudioStream(fmt.sample_rate, channels, frames, read)


def _pyav(source: IO[bytes], what: str) -> AudioStream:
    """Whole-file decode through FFmpeg's libraries (WEBM_OPUS and what libsndfile refuses)."""
    import av

    try:
        with av.open(source, mode="r") as container:
            stream = container.streams.audio[0]
            channels = stream.codec_context.channels or 1
            resampler = av.AudioResampler(format="flt", layout=stream.layout, rate=TARGET_RATE)
            parts = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1, channels))
    except (av.error.FFmpegError, IndexError, ValueError):
        raise _undecodable(what) from None
    samples = np.concatenate(parts) if parts else np.zeros((0, channels), np.float32)
    position = [0]

    def read(n: int) -> np.ndarray:
        block = samples[position[0] : position[0] + n]
        position[0] += len(block)
        return block

    return AudioStream(TARGET_RATE, channels, len(samples), read)


def resample(block: np.ndarray, rate: int) -> np.ndarray:
    """`block` (frames, channels) at `rate` -> 16 kHz, polyphase (scipy), float32."""
    if rate == TARGET_RATE or block.size == 0:
        return np.ascontiguousarray(block, dtype=np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, TARGET_RATE)
    out = resample_poly(block, TARGET_RATE // g, rate // g, axis=0)
    return out.astype(np.float32)


def _g711_tables() -> tuple[np.ndarray, np.ndarray]:
    """ITU-T G.711 mu-law and A-law byte -> float tables (the reference decoders)."""
    codes = np.arange(256, dtype=np.int32)
    u = ~codes & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    mulaw = np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84)
    a = codes ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1)
    )
    alaw = np.where(a & 0x80, magnitude, -magnitude)
    return (mulaw / 32768.0).astype(np.float32), (alaw / 32768.0).astype(np.float32)


_MULAW, _ALAW = _g711_tables()
