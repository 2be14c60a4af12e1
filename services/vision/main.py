"""functions-framework targets for the vision service (`shared.service.function_targets`):

    functions-framework --source services/vision/main.py --target vision          # REST, /events
    functions-framework --source services/vision/main.py --target vision_events

The app is built on the first request, not at import, so the process is ready at once.
"""

from __future__ import annotations

from services.vision.app import create_app
from shared.service import function_targets

vision, vision_events, app = function_targets("vision", create_app)
