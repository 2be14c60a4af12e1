"""Reading a request's document: inline `content` or `gcsContentUri`, PLAIN_TEXT or HTML.

HTML is made analysable without moving any character: every tag, comment and the inside of
`<script>`/`<style>` is replaced by spaces of the same length, so offsets still point into the
document the caller sent (character references such as `&amp;` stay as written).
"""

from __future__ import annotations

import re

from shared.errors import invalid_argument
from shared.gapictypes import message_types
from shared.storage import Storage

language_v1 = message_types("google.cloud.language_v1")

_HIDDEN = re.compile(
    r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>", re.I | re.S
)


def load_text(document: language_v1.Document, storage: Storage, max_bytes: int) -> str:
    if document.gcs_content_uri:
        data = storage.read(document.gcs_content_uri, max_bytes=max_bytes)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid_argument(
                f"{document.gcs_content_uri} is not UTF-8 text; Natural Language reads UTF-8."
            ) from None
        if not text.strip():
            raise invalid_argument(f"The document at {document.gcs_content_uri} is empty.")
    else:
        text = document.content
    if document.type_ == language_v1.Document.Type.HTML:
        text = _HIDDEN.sub(lambda match: " " * len(match.group(0)), text)
    return text
