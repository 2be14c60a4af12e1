"""Language names for `supportedLanguages?displayLanguageCode=...`, for the languages Debian's
Apertium pairs and the default detection set cover, in English, Spanish, French and Catalan.
Another display language falls back to the English names (Google knows many more)."""

from __future__ import annotations

# code: (English, Spanish, French, Catalan)
_NAMES: dict[str, tuple[str, str, str, str]] = {
    "af": ("Afrikaans", "afrikáans", "afrikaans", "afrikaans"),
    "an": ("Aragonese", "aragonés", "aragonais", "aragonès"),
    "ast": ("Asturian", "asturiano", "asturien", "asturià"),
    "be": ("Belarusian", "bielorruso", "biélorusse", "belarús"),
    "bg": ("Bulgarian", "búlgaro", "bulgare", "búlgar"),
    "br": ("Breton", "bretón", "breton", "bretó"),
    "ca": ("Catalan", "catalán", "catalan", "català"),
    "da": ("Danish", "danés", "danois", "danès"),
    "de": ("German", "alemán", "allemand", "alemany"),
    "en": ("English", "inglés", "anglais", "anglès"),
    "eo": ("Esperanto", "esperanto", "espéranto", "esperanto"),
    "es": ("Spanish", "español", "espagnol", "espanyol"),
    "eu": ("Basque", "euskera", "basque", "basc"),
    "fr": ("French", "francés", "français", "francès"),
    "gl": ("Galician", "gallego", "galicien", "gallec"),
    "hi": ("Hindi", "hindi", "hindi", "hindi"),
    "id": ("Indonesian", "indonesio", "indonésien", "indonesi"),
    "is": ("Icelandic", "islandés", "islandais", "islandès"),
    "it": ("Italian", "italiano", "italien", "italià"),
    "mk": ("Macedonian", "macedonio", "macédonien", "macedoni"),
    "ms": ("Malay", "malayo", "malais", "malai"),
    "nb": ("Norwegian Bokmål", "noruego bokmal", "norvégien bokmål", "noruec bokmål"),
    "nl": ("Dutch", "neerlandés", "néerlandais", "neerlandès"),
    "nn": ("Norwegian Nynorsk", "noruego nynorsk", "norvégien nynorsk", "noruec nynorsk"),
    "no": ("Norwegian", "noruego", "norvégien", "noruec"),
    "oc": ("Occitan", "occitano", "occitan", "occità"),
    "pl": ("Polish", "polaco", "polonais", "polonès"),
    "pt": ("Portuguese", "portugués", "portugais", "portuguès"),
    "ro": ("Romanian", "rumano", "roumain", "romanès"),
    "ru": ("Russian", "ruso", "russe", "rus"),
    "sc": ("Sardinian", "sardo", "sarde", "sard"),
    "sh": ("Serbo-Croatian", "serbocroata", "serbo-croate", "serbocroat"),
    "sv": ("Swedish", "sueco", "suédois", "suec"),
    "uk": ("Ukrainian", "ucraniano", "ukrainien", "ucraïnès"),
    "ur": ("Urdu", "urdu", "ourdou", "urdú"),
}
_COLUMN = {"en": 0, "es": 1, "fr": 2, "ca": 3}


def display_name(code: str, display_language: str) -> str:
    names = _NAMES.get(code)
    if names is None:
        return code
    return names[_COLUMN.get(display_language.split("-")[0].lower(), 0)]
