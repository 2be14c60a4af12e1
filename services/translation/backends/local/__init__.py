"""The `local` backend: Cloud Translation v3 answered offline by Apertium and lingua.

- translateText: Apertium's rule-based pairs installed from Debian (`apertium-eng-spa`,
  `apertium-fr-es`, `apertium-eng-cat`, ...), kept warm (see `apertium.py`); a direction no pair
  makes is translated through one pivot when two installed pairs make a path, and each
  translation's `model` names the pair(s) used, e.g.
  `projects/p/locations/global/models/apertium/fr-es+spa-eng`. Without `sourceLanguageCode`,
  each string's language is detected and returned in `detectedLanguageCode`; a string already
  in the target language (or with no letters to detect: "und") comes back unchanged.
  `mimeType` text/plain and text/html (markup kept, malformed HTML refused; see `markup.py`).
- detectLanguage: lingua among `TRANSLATION_DETECT_LANGUAGES`; the best language and its
  confidence (`und` when there is nothing to detect).
- supportedLanguages: exactly the languages of the installed pairs (`supportSource` /
  `supportTarget` from the direct pairs), with names when `displayLanguageCode` is given.

Honoured request fields: `contents`, `mimeType`, `sourceLanguageCode`, `targetLanguageCode`,
`parent`; `content` and `mimeType` for detection; `displayLanguageCode`. Ignored: `model`
(there is one engine; the response says which pairs were used), `labels`.
UNIMPLEMENTED: `glossaryConfig` and `transliterationConfig.enableTransliteration`.
An unsupported language pair is INVALID_ARGUMENT naming the installed ones.
"""

from __future__ import annotations

import logging
import threading

from services.translation.backends.local import apertium, markup, names
from services.translation.settings import TranslationSettings
from shared.errors import ApiError, Code, echo, invalid_argument, unimplemented
from shared.gapictypes import message_types
from shared.langid import LanguageIdentifier

translate = message_types("google.cloud.translate_v3")

log = logging.getLogger("services.translation.local")
UNDETERMINED = "und"
# Detect from the start of a string; lingua's cost grows with length.
DETECT_CHARACTERS = 2000


class LocalBackend:
    def __init__(
        self, settings: TranslationSettings, *, identifier: LanguageIdentifier | None = None
    ) -> None:
        self._settings = settings
        self._identifier = identifier or LanguageIdentifier(
            settings.detect_languages, settings.detect_accuracy
        )
        self._pairs = apertium.discover(settings.apertium_dir)
        self._pipelines: dict[str, apertium.Pipeline] = {}
        # Protects `_pipelines` (each pipeline has its own lock for its pipe).
        self._lock = threading.Lock()
        log.info("apertium directions: %s", ", ".join(p.mode for p in self._pairs.values()))
        if settings.prewarm:
            threading.Thread(target=self._prewarm, name="apertium-prewarm", daemon=True).start()

    # -- the interface -------------------------------------------------------------------

    def translate_text(
        self, request: translate.TranslateTextRequest
    ) -> translate.TranslateTextResponse:
        if request.glossary_config.glossary:
            raise unimplemented(
                "glossaryConfig is not available with the local backend (Apertium has no "
                "glossaries). Set TRANSLATION_ML_BACKEND=cloud to use Google's glossaries."
            )
        if request.transliteration_config.enable_transliteration:
            raise unimplemented("transliterationConfig is not available with the local backend.")
        total = sum(len(text) for text in request.contents)
        if total > self._settings.max_codepoints:
            raise invalid_argument(
                f"The request has {total} code points; the limit is "
                f"{self._settings.max_codepoints}. Split it into smaller requests."
            )
        is_html = request.mime_type == "text/html"
        target = _code(request.target_language_code)
        if target not in {t for _, t in self._pairs}:
            raise self._unsupported(f"Target language {echo(request.target_language_code)}")
        given = _code(request.source_language_code) if request.source_language_code else ""
        sources = [given or self._detect(text, is_html) for text in request.contents]
        routes = {source: self._route(source, target, index, given) for index, source in
                  enumerate(sources) if source not in (target, UNDETERMINED)}  # fmt: skip
        streams = [
            self._deformat(text, is_html, index) for index, text in enumerate(request.contents)
        ]
        by_source: dict[str, list[int]] = {}
        for index, source in enumerate(sources):
            if source in routes:
                by_source.setdefault(source, []).append(index)
        translated = list(request.contents)
        models: dict[int, str] = {}
        for source, indices in by_source.items():
            pieces = [streams[i] for i in indices]
            for pair in routes[source]:
                pieces = self._pipeline(pair).translate(pieces)
            model = _model_name(request.parent, routes[source])
            for i, piece in zip(indices, pieces, strict=True):
                translated[i] = markup.reformat(piece, is_html=is_html)
                models[i] = model
        return translate.TranslateTextResponse(
            translations=[
                translate.Translation(
                    translated_text=text,
                    model=models.get(i, ""),
                    detected_language_code="" if given else sources[i],
                )
                for i, text in enumerate(translated)
            ]
        )

    def detect_language(
        self, request: translate.DetectLanguageRequest
    ) -> translate.DetectLanguageResponse:
        text = request.content
        if request.mime_type == "text/html":
            text = markup.strip_html(text)
        best = self._identifier.best(text[:DETECT_CHARACTERS])
        language = (
            translate.DetectedLanguage(language_code=best[0], confidence=round(best[1], 4))
            if best
            else translate.DetectedLanguage(language_code=UNDETERMINED)
        )
        return translate.DetectLanguageResponse(languages=[language])

    def get_supported_languages(
        self, request: translate.GetSupportedLanguagesRequest
    ) -> translate.SupportedLanguages:
        sources = {s for s, _ in self._pairs}
        targets = {t for _, t in self._pairs}
        display = request.display_language_code
        return translate.SupportedLanguages(
            languages=[
                translate.SupportedLanguage(
                    language_code=code,
                    display_name=names.display_name(code, display) if display else "",
                    support_source=code in sources,
                    support_target=code in targets,
                )
                for code in sorted(sources | targets)
            ]
        )

    def close(self) -> None:
        with self._lock:
            pipelines, self._pipelines = list(self._pipelines.values()), {}
        for pipeline in pipelines:
            pipeline.close()

    # -- helpers -------------------------------------------------------------------------

    def _detect(self, text: str, is_html: bool) -> str:
        plain = markup.strip_html(text) if is_html else text
        best = self._identifier.best(plain[:DETECT_CHARACTERS])
        return best[0] if best else UNDETERMINED

    def _route(self, source: str, target: str, index: int, given: str) -> list[apertium.Pair]:
        found = apertium.route(self._pairs, source, target, self._settings.pivots)
        if found is None:
            what = (
                f"Source language {echo(source)}"
                if given
                else f"contents[{index}] is in {echo(source)} (detected), which"
            )
            raise self._unsupported(f"{what} cannot be translated to {echo(target)}: the pair")
        return found

    def _unsupported(self, what: str) -> ApiError:
        if not self._pairs:
            return ApiError(
                Code.FAILED_PRECONDITION,
                "No Apertium language pairs are installed: apt-get install apertium "
                "apertium-eng-spa (see local/system_packages.sh).",
            )
        pairs = ", ".join(f"{s}->{t}" for s, t in sorted(self._pairs))
        return invalid_argument(
            f"{what} is not supported by the local backend. Installed pairs: {pairs} "
            f"(and two-step paths through them)."
        )

    def _deformat(self, text: str, is_html: bool, index: int) -> str:
        if not is_html:
            return markup.deformat_text(text)
        try:
            return markup.deformat_html(text)
        except markup.MarkupError as exc:
            raise invalid_argument(f"contents[{index}]: {exc}") from None

    def _pipeline(self, pair: apertium.Pair) -> apertium.Pipeline:
        with self._lock:
            pipeline = self._pipelines.get(pair.mode)
            if pipeline is None:
                pipeline = apertium.Pipeline(pair, self._settings.pipeline_timeout_s)
                self._pipelines[pair.mode] = pipeline
            return pipeline

    def _prewarm(self) -> None:
        for pair in self._pairs.values():
            self._pipeline(pair).start()


def _code(code: str) -> str:
    return code.strip().split("-")[0].split("_")[0].lower()


def _model_name(parent: str, route: list[apertium.Pair]) -> str:
    if "/locations/" not in parent:
        parent = f"{parent}/locations/global"
    return f"{parent}/models/apertium/{'+'.join(pair.mode for pair in route)}"
