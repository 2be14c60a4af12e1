"""functions-framework target for the prediction service (see `shared.service.function_targets`).

    functions-framework --source services/prediction/main.py --target prediction
    gunicorn services.prediction.main:app          # the same app, one Flask dispatch a request

The app is built on the first request, not at import, so the process is ready at once; with
`PREDICTION_PRELOAD` (or a Vertex AI container's `AIP_STORAGE_URI`) set it is built at import
instead, so models load before the first request (and, under gunicorn with several workers,
once in the parent before the fork). Online prediction takes no events.
"""

from __future__ import annotations

import os

from services.prediction.app import create_app
from shared.service import function_targets

prediction, _, app = function_targets("prediction", create_app)

if any(os.environ.get(name) for name in ("PREDICTION_PRELOAD", "PRELOAD", "AIP_STORAGE_URI")):
    app.build()
