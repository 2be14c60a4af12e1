"""The speech service as a real process, the official clients (v1 and v2) pointed at it, and
human speech to feed it: Debian's `pocketsphinx-testdata` (LibriVox recordings with their
transcripts), used where installed or else fetched with `apt-get download` and unpacked with
`dpkg -x` into a temporary directory (no root needed)."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from google.cloud import speech_v1 as speech
from google.cloud import speech_v2

from local.clients import api_client
from tests.conftest import ServiceProcess

INSTALLED = Path("/usr/share/pocketsphinx/test/data")
RESULTS = "speech-results"
AUDIO = "speech-audio"


@dataclasses.dataclass(frozen=True)
class Clip:
    path: Path
    transcript: str

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()


@dataclasses.dataclass(frozen=True)
class SpeechData:
    root: Path

    def _clips(self, folder: str, listing: str) -> list[Clip]:
        found = []
        for line in (self.root / folder / listing).read_text().splitlines():
            match = re.match(r"<s>(.*)</s>\s*\((.+)\)", line.strip())
            if match:
                found.append(Clip(self.root / folder / f"{match[2]}.wav", match[1].strip()))
        return found

    @property
    def librivox(self) -> list[Clip]:
        return self._clips("librivox", "transcription")

    @property
    def cards(self) -> list[Clip]:
        return self._clips("cards", "cards.transcription")

    @property
    def goforward_raw(self) -> Clip:
        return Clip(self.root / "goforward.raw", "go forward ten meters")


def _unpack(target: Path) -> Path:
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        pytest.skip("pocketsphinx-testdata is not installed and apt-get/dpkg are missing")
    subprocess.run(
        ["apt-get", "download", "pocketsphinx-testdata"],
        cwd=target,
        check=True,
        capture_output=True,
    )
    deb = next(target.glob("pocketsphinx-testdata_*.deb"))
    subprocess.run(["dpkg", "-x", str(deb), str(target / "root")], check=True)
    return target / "root" / INSTALLED.relative_to("/")


def find_testdata(tmp_path_factory) -> SpeechData:
    """The LibriVox clips: installed, or unpacked into a temporary directory."""
    if (INSTALLED / "librivox" / "transcription").exists():
        return SpeechData(INSTALLED)
    return SpeechData(_unpack(tmp_path_factory.mktemp("pocketsphinx-testdata")))


@pytest.fixture(scope="session")
def testdata(tmp_path_factory) -> SpeechData:
    return find_testdata(tmp_path_factory)


def official_client(url: str) -> speech.SpeechClient:
    return api_client(speech.SpeechClient, url)


@pytest.fixture(scope="session")
def speech_buckets(storage_emulator):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
        client = storage.Client(project="test-project", credentials=AnonymousCredentials())
        yield client.create_bucket(AUDIO), client.create_bucket(RESULTS)


@pytest.fixture(scope="session")
def speech_service(tmp_path_factory, storage_emulator, speech_buckets):
    service = ServiceProcess(
        "speech",
        "speech",
        env={
            "STORAGE_EMULATOR_HOST": storage_emulator,
            "RESULTS_BUCKET": RESULTS,
            "SPEECH_PREWARM": "true",
            "SPEECH_LRO_WORKERS": "2",
            "SPEECH_CHUNK_SECONDS": "30",
            # 10 MB of audio is 13.4 MB as base64 JSON (the server reads this variable too).
            "MAX_REQUEST_BYTES": str(15 * 2**20),
        },
        log_path=tmp_path_factory.mktemp("speech") / "service.log",
    )
    yield service
    service.stop()


@pytest.fixture(scope="session")
def client(speech_service) -> speech.SpeechClient:
    return official_client(speech_service.url)


@pytest.fixture(scope="session")
def client_v2(speech_service) -> speech_v2.SpeechClient:
    return api_client(speech_v2.SpeechClient, speech_service.url)


_ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint"}
_NUMBERS = {"10": "ten", "4": "four", "5": "five", "7": "seven", "8": "eight"}


def normalise(text: str) -> str:
    """Lower case, hyphens as spaces, punctuation gone, a few spellings unified (Whisper
    writes "Mr." and "10" where the LibriVox transcripts say "mister" and "ten")."""
    words = re.sub(r"[^\w' ]", " ", text.lower().replace("-", " ")).split()
    return " ".join(_ABBREVIATIONS.get(w, _NUMBERS.get(w, w)) for w in words)


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    import jiwer

    return jiwer.wer([normalise(r) for r in references], [normalise(h) for h in hypotheses])
