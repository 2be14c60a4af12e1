"""Importing a service, or building it with the `cloud` backend, loads no offline engine."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

CHECK = """
import sys
from services.language import main as language_main
from services.translation import main as translation_main
from services.language.app import create_app as language_app
from services.translation.app import create_app as translation_app
from services.language.settings import LanguageSettings
from services.translation.settings import TranslationSettings
language_app(LanguageSettings(ml_backend="cloud"))
translation_app(TranslationSettings(ml_backend="cloud"))
heavy = [
    m for m in ("spacy", "lingua", "vaderSentiment", "thinc", "phonenumbers", "babel")
    if m in sys.modules
]
assert not heavy, heavy
"""


def test_no_engine_is_imported_until_used():
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
