"""functions-framework target for the prediction service (see `shared.service.function_targets`).

    functions-framework --source services/prediction/main.py --target prediction
    gunicorn services.prediction.main:app          # the same app, `:predict` without Flask

`app` answers well-formed `:predict` requests without Flask (`services.prediction.fastpath`)
and passes everything else to the Flask app. The app is built on the first request, not at
import, so the process is ready at once; with `PREDICTION_PRELOAD` (or a Vertex AI
container's `AIP_STORAGE_URI`) set it is built at import instead, so models load before the
first request (and, under gunicorn with `--preload`, once in the parent before the fork).
Online prediction takes no events.
"""

from __future__ import annotations

import os

from services.prediction.app import create_app
from services.prediction.fastpath import FastPredict
from shared.service import function_targets

prediction, _, _flask_app = function_targets("prediction", create_app)
app = FastPredict(_flask_app)

if any(os.environ.get(name) for name in ("PREDICTION_PRELOAD", "PRELOAD", "AIP_STORAGE_URI")):
    app.build()
