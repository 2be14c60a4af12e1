"""functions-framework targets for the language service (`shared.service.function_targets`):

    functions-framework --source services/language/main.py --target language
    functions-framework --source services/language/main.py --target language_events

The app is built on the first request, not at import; spaCy and lingua load on first use.
"""

from __future__ import annotations

from services.language.app import create_app
from shared.service import function_targets

language, language_events, app = function_targets("language", create_app)
