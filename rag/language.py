"""A light language detector for EU languages: function-word counts plus telltale letters.

Good enough for documents and for short questions (a handful of words), with no model to load.
"""

from __future__ import annotations

import re

LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "da": "Danish",
    "pl": "Polish",
    "nl": "Dutch",
    "es": "Spanish",
    "it": "Italian",
    "sv": "Swedish",
    "pt": "Portuguese",
}
"""English names of the language codes, for instructions to the generator."""

_FUNCTION_WORDS: dict[str, set[str]] = {
    "en": set(
        "the of and to in is are be that for on with by as which what how does under shall "
        "an or this from when who must can may it has have at not any where".split()
    ),
    "de": set(
        "der die das und zu in ist sind den dem des ein eine einer nach für mit von auf wann "
        "wie was welche welcher muss müssen kann gilt im zum zur bei ab nicht oder über werden "
        "wird sich als auch".split()
    ),
    "fr": set(
        "le la les de des du et à en est sont un une pour par sur dans que qui quel quelle "
        "quels quelles doit peut au aux ne pas ou l d il elle ce cette leur être".split()
    ),
    "da": set(
        "og i at af til er en et det den de som for med på ved skal kan fra hvilken hvilke "
        "hvor hvad hvornår efter ikke eller om har være denne disse".split()
    ),
    "pl": set(
        "i w z na do się jest są że o od przez dla jak jaka jaki jakie czy który która które "
        "lub nie oraz po to ten ta te przy być".split()
    ),
    "nl": set(
        "de het een en van in is zijn dat voor met op door als wat welke hoe wanneer moet "
        "kan niet of bij aan".split()
    ),
    "es": set(
        "el la los las de del y en es son un una para por con que qué cuál cómo cuándo debe "
        "puede no o al se su".split()
    ),
    "it": set(
        "il lo la gli le di del della e in è sono un una per con che quale come quando deve "
        "può non o al si".split()
    ),
    "sv": set(
        "och i att av till är en ett det den som för med på vid ska kan från vilken vilka "
        "hur när efter inte eller om har".split()
    ),
    "pt": set(
        "o a os as de do da e em é são um uma para por com que qual como quando deve pode "
        "não ou ao se".split()
    ),
}

_LETTER_HINTS: dict[str, str] = {
    "pl": "łąężźśćń",
    "da": "æø",
    "de": "ßäöü",
    "fr": "éèêàçùœ",
    "es": "ñ¿¡",
    "pt": "ãõ",
}

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of the most likely language of `text` (default when there is no signal)."""
    words = [w.lower() for w in _WORD.findall(text[:20000])]
    if not words:
        return default
    scores = {lang: 0.0 for lang in _FUNCTION_WORDS}
    for word in words:
        for lang, vocab in _FUNCTION_WORDS.items():
            if word in vocab:
                scores[lang] += 1.0
    lowered = text[:20000].lower()
    for lang, letters in _LETTER_HINTS.items():
        hits = sum(lowered.count(ch) for ch in letters)
        scores[lang] += min(hits, len(words)) * 0.5
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else default
