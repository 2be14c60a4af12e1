"""The `local` backend: Cloud Natural Language answered offline, for English.

- analyzeSentiment: VADER, extended for negation, contrast and review words, per sentence
  and for the document (see `sentiment.py`, `vader.py`);
- analyzeEntities: spaCy's named entities (`named.py`), addresses, phone numbers
  (libphonenumber), prices, dates and numbers with Google's metadata, identifiers; mentions
  with offsets; a salience heuristic (see `entities.py`, `salience.py`);
- analyzeEntitySentiment: the above, with each mention's sentence's sentiment;
- analyzeSyntax: spaCy's sentences and tokens, Google's tags, labels and morphology
  (see `syntax.py`);
- annotateText: any of the above by `features`; v2 paths by conversion (see `v2.py`);
- classifyText (and annotateText's `classifyText`): UNIMPLEMENTED, naming the `classify` extra
  (zero-shot over Google's categories with sentence embeddings), not part of this build;
- moderateText (and `moderateText`): UNIMPLEMENTED: no offline moderation model.

Honoured request fields: `document.content`, `document.gcsContentUri`, `document.type`
(PLAIN_TEXT, HTML), `document.language` / `languageCode` (only English is supported: others are
INVALID_ARGUMENT naming what is), `encodingType` (every `beginOffset`, see `offsets.py`),
`features`. Without a language, it is detected with lingua among `LANGUAGE_DETECT_LANGUAGES`
and returned in `language`; when lingua is unsure (best confidence under
`LANGUAGE_DETECT_MIN_CONFIDENCE`, 0.5: short English with foreign names scores ~0.3 Dutch or
French) the default language (`en`) is assumed rather than refusing the document.
Ignored: `document.referenceWebUri`, `document.boilerplateHandling`,
`classificationModelOptions`.
"""

from __future__ import annotations

from typing import Any

import proto

from services.language.backends.base import Rpc
from services.language.backends.local import documents, entities, sentiment, syntax, v2
from services.language.backends.local.engines import Engines
from services.language.backends.local.offsets import OffsetMap
from services.language.settings import LanguageSettings
from shared.errors import invalid_argument, unimplemented
from shared.gapictypes import message_types
from shared.langid import LanguageIdentifier
from shared.storage import Storage

language_v1 = message_types("google.cloud.language_v1")

Features = language_v1.AnnotateTextRequest.Features
SUPPORTED_LANGUAGES = ("en",)
# Language is detected from the start of a document; lingua is linear in the length.
DETECT_CHARACTERS = 2000

_CLASSIFY = (
    "classifyText is not available with the local backend: it needs the `classify` extra "
    "(zero-shot classification over Google's content categories with sentence embeddings), "
    "which this build does not include. Set LANGUAGE_ML_BACKEND=cloud to have Google answer it."
)
_MODERATE = (
    "moderateText is not available with the local backend: no offline moderation model ships "
    "in a wheel or a Debian package. Set LANGUAGE_ML_BACKEND=cloud to have Google answer it."
)
# What a v1 RPC asks of the analysis, and the response fields it returns.
_V1 = {
    "analyzeSentiment": (
        Features(extract_document_sentiment=True),
        language_v1.AnalyzeSentimentResponse,
        ("document_sentiment", "language", "sentences"),
    ),
    "analyzeEntities": (
        Features(extract_entities=True),
        language_v1.AnalyzeEntitiesResponse,
        ("entities", "language"),
    ),
    "analyzeEntitySentiment": (
        Features(extract_entity_sentiment=True),
        language_v1.AnalyzeEntitySentimentResponse,
        ("entities", "language"),
    ),
    "analyzeSyntax": (
        Features(extract_syntax=True),
        language_v1.AnalyzeSyntaxResponse,
        ("sentences", "tokens", "language"),
    ),
}


class LocalBackend:
    def __init__(
        self,
        settings: LanguageSettings,
        storage: Storage,
        *,
        engines: Engines | None = None,
        identifier: LanguageIdentifier | None = None,
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._engines = engines or Engines(settings.spacy_model)
        self._identifier = identifier or LanguageIdentifier(
            settings.detect_languages, settings.detect_accuracy
        )

    def call(self, rpc: Rpc, request: proto.Message) -> proto.Message:
        if rpc.verb == "classifyText":
            raise unimplemented(_CLASSIFY)
        if rpc.verb == "moderateText":
            raise unimplemented(_MODERATE)
        if rpc.version == "v2":
            features = (
                Features(
                    extract_entities=request.features.extract_entities,
                    extract_document_sentiment=request.features.extract_document_sentiment,
                    classify_text=request.features.classify_text,
                    moderate_text=request.features.moderate_text,
                )
                if rpc.verb == "annotateText"
                else _V1[rpc.verb][0]
            )
            response = self.annotate(
                language_v1.AnnotateTextRequest(
                    document=v2.to_v1_document(request.document),
                    features=features,
                    encoding_type=int(request.encoding_type),
                )
            )
            if rpc.verb == "analyzeSentiment":
                response = _select(response, language_v1.AnalyzeSentimentResponse, _V1[rpc.verb][2])
            return v2.to_v2_response(rpc.verb, response)
        if rpc.verb == "annotateText":
            return self.annotate(request)
        features, response_type, fields = _V1[rpc.verb]
        response = self.annotate(
            language_v1.AnnotateTextRequest(
                document=request.document, features=features, encoding_type=request.encoding_type
            )
        )
        return _select(response, response_type, fields)

    def annotate(
        self, request: language_v1.AnnotateTextRequest
    ) -> language_v1.AnnotateTextResponse:
        """The whole analysis that every RPC is a view of."""
        features = request.features
        if features.classify_text:
            raise unimplemented(_CLASSIFY)
        if features.moderate_text:
            raise unimplemented(_MODERATE)
        text = documents.load_text(
            request.document, self._storage, self._settings.max_content_bytes
        )
        language = self._language(request.document.language, text, features)
        response = language_v1.AnnotateTextResponse(language=language)
        wants_entities = features.extract_entities or features.extract_entity_sentiment
        wants_sentiment = features.extract_document_sentiment or features.extract_entity_sentiment
        if not (wants_entities or wants_sentiment or features.extract_syntax):
            return response
        offset = OffsetMap(text, int(request.encoding_type))
        doc = self._engines.parse(text, entities=wants_entities)
        spans = _sentences(doc)
        scores = (
            [sentiment.sentence_sentiment(self._engines.polarity, text[s:e]) for s, e in spans]
            if wants_sentiment
            else []
        )
        if features.extract_syntax or features.extract_document_sentiment:
            for index, (start, end) in enumerate(spans):
                sentence = language_v1.Sentence(
                    text=language_v1.TextSpan(content=text[start:end], begin_offset=offset(start))
                )
                if features.extract_document_sentiment:
                    sentence.sentiment = scores[index]
                response.sentences.append(sentence)
        if features.extract_document_sentiment:
            response.document_sentiment = sentiment.combine(scores)
        if features.extract_syntax:
            response.tokens = syntax.tokens(doc, offset)
        if wants_entities:
            response.entities = self._entities(doc, spans, scores, offset, features)
        return response

    def close(self) -> None:
        """Nothing to release: the engines live as long as the process."""

    def _entities(self, doc: Any, spans, scores, offset: OffsetMap, features: Features) -> list:
        found = entities.extract(doc, [start for start, _ in spans], self._settings.phone_region)
        result = []
        for item in found:
            entity = entities.to_proto(item, offset)
            if features.extract_entity_sentiment:
                per_mention = [scores[m.sentence] for m in item.mentions]
                for mention, value in zip(entity.mentions, per_mention, strict=True):
                    mention.sentiment = value
                entity.sentiment = sentiment.combine(per_mention)
            result.append(entity)
        return result

    def _language(self, given: str, text: str, features: Features) -> str:
        if given:
            code = given
        else:
            detected = self._identifier.best(text[:DETECT_CHARACTERS])
            sure = detected and detected[1] >= self._settings.detect_min_confidence
            code = detected[0] if sure else self._settings.default_language
        if code.split("-")[0].lower() not in SUPPORTED_LANGUAGES:
            raise invalid_argument(
                f"The language {code} is not supported for {_feature_names(features)} analysis "
                f"by the local backend. Supported: {', '.join(SUPPORTED_LANGUAGES)}."
            )
        return code


def _sentences(doc: Any) -> list[tuple[int, int]]:
    """(start, end) character spans of spaCy's sentences, whitespace trimmed, none empty."""
    spans = []
    for sent in doc.sents:
        raw = sent.text
        stripped = raw.strip()
        if stripped:
            start = sent.start_char + (len(raw) - len(raw.lstrip()))
            spans.append((start, start + len(stripped)))
    return spans


def _feature_names(features: Features) -> str:
    names = [
        name
        for flag, name in (
            (features.extract_syntax, "syntax"),
            (features.extract_entities, "entity"),
            (features.extract_document_sentiment, "document_sentiment"),
            (features.extract_entity_sentiment, "entity_sentiment"),
        )
        if flag
    ]
    return ", ".join(names) or "text"


def _select(response: language_v1.AnnotateTextResponse, response_type, fields) -> proto.Message:
    return response_type(**{name: getattr(response, name) for name in fields})
