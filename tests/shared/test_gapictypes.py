"""`shared.gapictypes`: the official packages' message types without their clients.

Each check runs in a fresh interpreter: this test process has imported the packages already.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(code: str, **env: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_types_come_without_the_clients_and_are_the_packages_own() -> None:
    run("""
        import sys
        from shared.gapictypes import client_class, message_types

        types = message_types("google.cloud.language_v1")
        document = types.Document(content="Hello.", type_=types.Document.Type.PLAIN_TEXT)
        assert document.content == "Hello."
        assert "google.cloud.language_v1" not in sys.modules
        assert "google.cloud.language_v1.services" not in sys.modules
        assert "google.api_core.gapic_v1" not in sys.modules

        from google.cloud import language_v1

        assert language_v1.Document is types.Document
        client = client_class("google.cloud.language_v1", "LanguageServiceClient")
        assert client is language_v1.LanguageServiceClient
        assert language_v1.types is types
    """)


def test_an_imported_package_gives_its_own_types() -> None:
    run("""
        from google.cloud import vision_v1
        from shared.gapictypes import message_types

        assert message_types("google.cloud.vision_v1").Feature is vision_v1.Feature
    """)


def test_a_missing_package_is_an_import_error() -> None:
    run("""
        import sys
        from shared.gapictypes import message_types

        try:
            message_types("google.cloud.nothing_v1")
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError("no error")
        assert "google.cloud.nothing_v1" not in sys.modules
    """)


@pytest.mark.parametrize("service", ["vision", "language", "translation", "speech", "documentai"])
def test_a_service_starts_without_importing_client_transports(service: str) -> None:
    """The `cloud` backend imports its client on its first call (`shared.cloudclients`)."""
    run(
        f"""
        import sys
        import services.{service}.main

        services.{service}.main.app.build()  # the Flask app, with its cloud backend
        loaded = [m for m in ("google.api_core.gapic_v1", "grpc") if m in sys.modules]
        assert not loaded, loaded
        """,
        ML_BACKEND="cloud",
    )
