"""spaCy's tokens as Google's `Token`s: text with offset, `partOfSpeech`, `dependencyEdge`,
`lemma`.

- `partOfSpeech.tag`: spaCy's Universal POS onto Google's tag set (the Petrov et al. universal
  tags): AUX -> VERB, PROPN -> NOUN with `proper` PROPER, SCONJ -> ADP (Google tags "if",
  "because" ADP with label MARK), CCONJ -> CONJ, PART -> PRT, INTJ and SYM -> X.
- Morphology: the features spaCy's English model knows (Number, Person, Tense, Mood, Case,
  Gender, Voice, Aspect, VerbForm=Ger -> form GERUND). Others stay *_UNKNOWN; `proper` is
  PROPER for proper nouns only.
- `dependencyEdge.label`: spaCy's ClearNLP labels onto Google's Stanford-style ones (table
  below); `headTokenIndex` is the index in the document's token list, the root points to itself.
- Whitespace tokens of spaCy (SPACE) are not tokens for Google and are dropped; a head that
  was one is replaced by its own head.
"""

from __future__ import annotations

from typing import Any

from services.language.backends.local.offsets import OffsetMap
from shared.gapictypes import message_types

language_v1 = message_types("google.cloud.language_v1")

PoS = language_v1.PartOfSpeech
Label = language_v1.DependencyEdge.Label

TAGS = {
    "ADJ": PoS.Tag.ADJ,
    "ADP": PoS.Tag.ADP,
    "ADV": PoS.Tag.ADV,
    "AUX": PoS.Tag.VERB,
    "CCONJ": PoS.Tag.CONJ,
    "CONJ": PoS.Tag.CONJ,
    "DET": PoS.Tag.DET,
    "INTJ": PoS.Tag.X,
    "NOUN": PoS.Tag.NOUN,
    "NUM": PoS.Tag.NUM,
    "PART": PoS.Tag.PRT,
    "PRON": PoS.Tag.PRON,
    "PROPN": PoS.Tag.NOUN,
    "PUNCT": PoS.Tag.PUNCT,
    "SCONJ": PoS.Tag.ADP,
    "SYM": PoS.Tag.X,
    "VERB": PoS.Tag.VERB,
    "X": PoS.Tag.X,
}

LABELS = {
    "ROOT": Label.ROOT,
    "acl": Label.VMOD,
    "acomp": Label.ACOMP,
    "advcl": Label.ADVCL,
    "advmod": Label.ADVMOD,
    "agent": Label.PREP,
    "amod": Label.AMOD,
    "appos": Label.APPOS,
    "attr": Label.ATTR,
    "aux": Label.AUX,
    "auxpass": Label.AUXPASS,
    "case": Label.PS,
    "cc": Label.CC,
    "ccomp": Label.CCOMP,
    "compound": Label.NN,
    "conj": Label.CONJ,
    "csubj": Label.CSUBJ,
    "csubjpass": Label.CSUBJPASS,
    "dative": Label.IOBJ,
    "dep": Label.DEP,
    "det": Label.DET,
    "dobj": Label.DOBJ,
    "expl": Label.EXPL,
    "intj": Label.DISCOURSE,
    "mark": Label.MARK,
    "meta": Label.DEP,
    "neg": Label.NEG,
    "nmod": Label.NN,
    "npadvmod": Label.NPADVMOD,
    "nsubj": Label.NSUBJ,
    "nsubjpass": Label.NSUBJPASS,
    "nummod": Label.NUM,
    "oprd": Label.XCOMP,
    "parataxis": Label.PARATAXIS,
    "pcomp": Label.PCOMP,
    "pobj": Label.POBJ,
    "poss": Label.POSS,
    "preconj": Label.PRECONJ,
    "predet": Label.PREDET,
    "prep": Label.PREP,
    "prt": Label.PRT,
    "punct": Label.P,
    "quantmod": Label.QUANTMOD,
    "relcl": Label.RCMOD,
    "xcomp": Label.XCOMP,
}

# spaCy morphology feature=value -> (PartOfSpeech field, value).
MORPHOLOGY = {
    ("Number", "Sing"): ("number", PoS.Number.SINGULAR),
    ("Number", "Plur"): ("number", PoS.Number.PLURAL),
    ("Person", "1"): ("person", PoS.Person.FIRST),
    ("Person", "2"): ("person", PoS.Person.SECOND),
    ("Person", "3"): ("person", PoS.Person.THIRD),
    ("Tense", "Past"): ("tense", PoS.Tense.PAST),
    ("Tense", "Pres"): ("tense", PoS.Tense.PRESENT),
    ("Tense", "Fut"): ("tense", PoS.Tense.FUTURE),
    ("Mood", "Ind"): ("mood", PoS.Mood.INDICATIVE),
    ("Mood", "Imp"): ("mood", PoS.Mood.IMPERATIVE),
    ("Mood", "Sub"): ("mood", PoS.Mood.SUBJUNCTIVE),
    ("Mood", "Cnd"): ("mood", PoS.Mood.CONDITIONAL_MOOD),
    ("Case", "Nom"): ("case", PoS.Case.NOMINATIVE),
    ("Case", "Acc"): ("case", PoS.Case.ACCUSATIVE),
    ("Case", "Gen"): ("case", PoS.Case.GENITIVE),
    ("Gender", "Masc"): ("gender", PoS.Gender.MASCULINE),
    ("Gender", "Fem"): ("gender", PoS.Gender.FEMININE),
    ("Gender", "Neut"): ("gender", PoS.Gender.NEUTER),
    ("Voice", "Pass"): ("voice", PoS.Voice.PASSIVE),
    ("Voice", "Act"): ("voice", PoS.Voice.ACTIVE),
    ("Aspect", "Perf"): ("aspect", PoS.Aspect.PERFECTIVE),
    ("Aspect", "Prog"): ("aspect", PoS.Aspect.PROGRESSIVE),
    ("VerbForm", "Ger"): ("form", PoS.Form.GERUND),
}


def kept_tokens(doc: Any) -> list[Any]:
    """spaCy tokens that are tokens for Google (no whitespace)."""
    return [token for token in doc if not token.is_space]


def tokens(doc: Any, offset: OffsetMap) -> list[language_v1.Token]:
    kept = kept_tokens(doc)
    index = {token.i: position for position, token in enumerate(kept)}
    result = []
    for token in kept:
        head = token.head
        while head.i not in index and head.head.i != head.i:
            head = head.head
        head_index = index.get(head.i, index[token.i])
        result.append(
            language_v1.Token(
                text=language_v1.TextSpan(content=token.text, begin_offset=offset(token.idx)),
                part_of_speech=part_of_speech(token),
                dependency_edge=language_v1.DependencyEdge(
                    head_token_index=head_index, label=LABELS.get(token.dep_, Label.UNKNOWN)
                ),
                lemma=token.lemma_ or token.text,
            )
        )
    return result


def part_of_speech(token: Any) -> language_v1.PartOfSpeech:
    fields: dict[str, Any] = {"tag": TAGS.get(token.pos_, PoS.Tag.UNKNOWN)}
    if token.pos_ == "PROPN":
        fields["proper"] = PoS.Proper.PROPER
    for feature in token.morph:
        name, _, value = str(feature).partition("=")
        for single in value.split(","):
            mapped = MORPHOLOGY.get((name, single))
            if mapped is not None:
                fields[mapped[0]] = mapped[1]
    return language_v1.PartOfSpeech(**fields)
