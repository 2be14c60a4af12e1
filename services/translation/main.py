"""functions-framework targets for the translation service (`shared.service.function_targets`):

    functions-framework --source services/translation/main.py --target translation
    functions-framework --source services/translation/main.py --target translation_events

The app is built on the first request, not at import; Apertium and lingua start on first use.
"""

from __future__ import annotations

from services.translation.app import create_app
from shared.service import function_targets

translation, translation_events, app = function_targets("translation", create_app)
