"""Natural Language v2 answered by the v1 analysis: v2 is v1 without syntax and entity
sentiment, with `languageCode` for `language`, `languageSupported` added, no entity
`salience`, and mention `probability` (left out: spaCy gives no probability)."""

from __future__ import annotations

from typing import Any

import proto

from shared import protojson
from shared.gapictypes import message_types

language_v1 = message_types("google.cloud.language_v1")
language_v2 = message_types("google.cloud.language_v2")

_V2_RESPONSES = {
    "analyzeSentiment": language_v2.AnalyzeSentimentResponse,
    "analyzeEntities": language_v2.AnalyzeEntitiesResponse,
    "annotateText": language_v2.AnnotateTextResponse,
}


def to_v1_document(document: language_v2.Document) -> language_v1.Document:
    converted = language_v1.Document(type_=int(document.type_), language=document.language_code)
    # `content` and `gcs_content_uri` are a oneof: setting either, even empty, clears the other.
    if document.gcs_content_uri:
        converted.gcs_content_uri = document.gcs_content_uri
    else:
        converted.content = document.content
    return converted


def to_v2_response(verb: str, response: proto.Message) -> proto.Message:
    body = protojson.to_dict(response)
    converted: dict[str, Any] = {}
    for key, value in body.items():
        if key == "language":
            converted["languageCode"] = value
        elif key == "entities":
            converted["entities"] = [_entity(entity) for entity in value]
        elif key != "tokens":
            converted[key] = value
    converted["languageSupported"] = True
    return protojson.parse(_V2_RESPONSES[verb], converted)


def _entity(entity: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entity.items() if key != "salience"}
