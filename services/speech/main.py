"""functions-framework targets for the speech service (`shared.service.function_targets`):

    functions-framework --source services/speech/main.py --target speech
    functions-framework --source services/speech/main.py --target speech_events

The app is built on the first request, not at import; Whisper loads on first use
(`SPEECH_PREWARM=true` loads it when the app is built).
"""

from __future__ import annotations

from services.speech.app import create_app
from shared.service import function_targets

speech, speech_events, app = function_targets("speech", create_app)
