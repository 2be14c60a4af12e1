"""Run the prediction service as a Vertex AI custom container (or on Cloud Run):

    python -m services.prediction.container

Listens on `AIP_HTTP_PORT` (Vertex AI sets it; default 8080), else `PORT` (Cloud Run), on all
interfaces, through functions-framework and gunicorn as Cloud Run would. With `AIP_STORAGE_URI`
set the one model in that folder is loaded before the first request, `AIP_PREDICT_ROUTE`
answers predictions and `AIP_HEALTH_ROUTE` answers 200 once the model is loaded (503 if it
failed); without it, the service serves the registry as usual.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

MAIN = Path(__file__).resolve().with_name("main.py")


def command(environ: dict[str, str] | os._Environ[str] = os.environ) -> list[str]:
    port = environ.get("AIP_HTTP_PORT") or environ.get("PORT") or "8080"
    binary = shutil.which("functions-framework", path=str(Path(sys.executable).parent)) or (
        shutil.which("functions-framework") or "functions-framework"
    )
    return [
        binary,
        "--source",
        str(MAIN),
        "--target",
        "prediction",
        "--host",
        environ.get("HOST", "0.0.0.0"),  # noqa: S104 - a container listens on all interfaces
        "--port",
        port,
    ]


def main() -> None:
    argv = command()
    os.execv(argv[0], argv)  # noqa: S606 - replaces this process, as a container entry point


if __name__ == "__main__":
    main()
