"""functions-framework targets for the batch_prediction service (`shared.service.function_targets`):

    functions-framework --source services/batch_prediction/main.py --target batch_prediction
    functions-framework --source services/batch_prediction/main.py --target batch_prediction_events

The app is built when `shared.serving`'s worker starts (its scoring processes start with
it), or under functions-framework at the first request; not at import.
"""

from __future__ import annotations

from services.batch_prediction.app import create_app
from shared.service import function_targets

batch_prediction, batch_prediction_events, app = function_targets("batch_prediction", create_app)
