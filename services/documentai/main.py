"""functions-framework targets for the Document AI service (`shared.service.function_targets`):

    functions-framework --source services/documentai/main.py --target documentai
    functions-framework --source services/documentai/main.py --target documentai_events

The app is built on the first request, not at import; engines load on first use.
"""

from __future__ import annotations

from services.documentai.app import create_app
from shared.service import function_targets

documentai, documentai_events, app = function_targets("documentai", create_app)
