"""The image recipe, checked without a Docker engine: what the build context holds, what the
package built from it contains, and the container contract (non-root, $PORT)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()


def test_runs_as_a_non_root_user_on_port():
    assert "USER 10001" in DOCKERFILE
    assert "--port ${PORT}" in DOCKERFILE
    assert "functions-framework --source services/${SERVICE}/main.py --target ${TARGET}" in (
        DOCKERFILE
    )
    assert "gunicorn --bind :${PORT}" in DOCKERFILE
    assert "python -m shared.serving services.${SERVICE}.main:app" in DOCKERFILE
    assert "SERVER=granian" in DOCKERFILE


def test_gunicorn_serves_a_wsgi_app_where_the_topology_asks_for_it():
    """SERVER=gunicorn needs `services.<name>.main:app`: every such service must expose it."""
    import importlib

    from deploy.topology import DEFAULT_PATH, load

    for name, service in load(DEFAULT_PATH).services.items():
        if service.env.get("SERVER") == "gunicorn":
            module = importlib.import_module(f"services.{name}.main")
            assert callable(getattr(module, "app", None)), name


def test_cloud_images_install_no_offline_engine():
    """The `local` extra (the offline engines) only with BACKEND=local; a service's own extras
    (the topology's `extras`) always. The Dockerfile's RUN line runs through sh here, with a
    `pip` that only says what it was asked."""
    lines = DOCKERFILE.replace("\\\n", " ").splitlines()
    script = next(line for line in lines if "pip install" in line).removeprefix("RUN ")
    for (extras, backend), wanted in {
        ("", "cloud"): "pip install .",
        ("prediction", "cloud"): "pip install .[prediction]",
        ("", "local"): "pip install .[local]",
        ("prediction", "local"): "pip install .[local,prediction]",
    }.items():
        result = subprocess.run(
            ["sh", "-c", 'pip() { echo "pip $*"; }; ' + script],
            env={"EXTRAS": extras, "BACKEND": backend},
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip() == wanted, (extras, backend)


def test_dockerignore_keeps_tests_benches_and_state_out():
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") + 1 :]  # everything out, then the few things in
    allowed = [line[1:] for line in ignore if line.startswith("!")]
    assert sorted(allowed) == [
        "README.md",
        "local/system_packages.sh",
        "pyproject.toml",
        "services/",
        "shared/",
    ]


def _context(tmp_path: Path, service: str) -> Path:
    """The files the Dockerfile copies for one service, as the build would see them."""
    context = tmp_path / "context"
    for name in ("pyproject.toml", "README.md"):
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, context / name)
    shutil.copytree(
        ROOT / "shared", context / "shared", ignore=shutil.ignore_patterns("__pycache__")
    )
    (context / "services").mkdir()
    shutil.copy(ROOT / "services" / "__init__.py", context / "services" / "__init__.py")
    shutil.copytree(
        ROOT / "services" / service,
        context / "services" / service,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return context


@pytest.mark.slow
def test_the_package_builds_from_one_services_context(tmp_path):
    context = _context(tmp_path, "vision")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(context),
        ],
        check=True,
    )
    [wheel] = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "services/vision/main.py" in names
    assert "shared/app.py" in names
    assert not any(n.startswith(("services/language/", "local/", "tests/")) for n in names)
