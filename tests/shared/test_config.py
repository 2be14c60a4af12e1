"""Settings: environment names, service-scoped overrides, typed parsing, clear refusals."""

from __future__ import annotations

import pydantic
import pytest

from shared.config import Settings


class _Example(Settings):
    languages: list[str] = ["en"]
    engines: int = 2


def test_defaults_without_environment():
    settings = Settings.from_env(environ={})
    assert settings.ml_backend == "local"
    assert settings.max_request_bytes == 10 * 1024 * 1024
    assert settings.health_route == "/health"


def test_service_scoped_variable_wins_over_plain_one():
    env = {"ML_BACKEND": "local", "VISION_ML_BACKEND": "cloud"}
    assert Settings.from_env("vision", environ=env).ml_backend == "cloud"
    assert Settings.from_env("language", environ=env).ml_backend == "local"


def test_lists_are_comma_separated_and_numbers_parsed():
    settings = _Example.from_env("x", environ={"X_LANGUAGES": "en, fr,,de", "ENGINES": "4"})
    assert settings.languages == ["en", "fr", "de"]
    assert settings.engines == 4


def test_empty_variable_means_default():
    assert Settings.from_env(environ={"ML_BACKEND": ""}).ml_backend == "local"


@pytest.mark.parametrize(
    "env",
    [{"ML_BACKEND": "gpu"}, {"MAX_REQUEST_BYTES": "-1"}, {"HEALTH_ROUTE": "health"}],
)
def test_bad_values_are_refused_with_the_field_named(env):
    with pytest.raises(pydantic.ValidationError) as info:
        Settings.from_env(environ=env)
    assert next(iter(env)).lower() in str(info.value)


def test_overrides_beat_the_environment():
    assert Settings.from_env(environ={"ML_BACKEND": "cloud"}, ml_backend="local").ml_backend == (
        "local"
    )


def test_topic_path():
    settings = Settings.from_env(environ={"GOOGLE_CLOUD_PROJECT": "p"})
    assert settings.topic_path("t") == "projects/p/topics/t"
    assert settings.topic_path("projects/q/topics/t") == "projects/q/topics/t"
