"""The kind of value a question asks for (a date, a period, an amount, a frequency) and where
passages hold one.

"By when must …", "How long may …", "What is the maximum fine …" ask for a value of a known shape.
Among the paragraphs of the right article, the one that holds such a value is usually the answer;
the text rankings cannot tell, because sibling paragraphs share the article's words. Retrieval
ranks the passages that hold a value of the asked kind as one more list in the fusion.
"""

from __future__ import annotations

import re

from .lexicon import DATE as WRITTEN_DATE
from .lexicon import PERIOD_UNITS, count_pattern

DATE, PERIOD, AMOUNT, FREQUENCY = "date", "period", "amount", "frequency"

_CUES: dict[str, tuple[str, ...]] = {
    # A date question is often answered by a period ("within 72 hours") and the reverse.
    DATE: (
        r"when",
        r"what date",
        r"which date",
        r"deadline",
        r"from what date",
        r"by what date",
        r"appl(?:y|ies) first",
        r"starts? to apply",
        r"enters? into force",
        r"entry into force",
        r"wann",
        r"bis wann",
        r"ab wann",
        r"welche[mn]? datum",
        r"frist",
        r"quand",
        r"quelle date",
        r"date limite",
        r"à partir de quand",
        r"délai",
        r"hvornår",
        r"(?:fra |fra og med )?hvilken dato",
        r"kiedy",
        r"do kiedy",
        r"od kiedy",
        r"(?:od |do )?jakiej daty",
        r"termin",
    ),
    PERIOD: (
        r"how long",
        r"how many (?:hours|days|weeks|months|years)",
        r"within what (?:period|time)",
        r"what (?:time )?period",
        r"how soon",
        r"how quickly",
        r"time limit",
        r"wie lange",
        r"innerhalb welche[rs]",
        r"wie viele (?:stunden|tage|wochen|monate|jahre)",
        r"(?:maximum|minimum|transitional|retention|notice|grace|waiting|storage) (?:time )?period",
        r"combien de temps",
        r"dans quel délai",
        r"quelle (?:durée|période)",
        r"hvor længe",
        r"jak długo",
    ),
    FREQUENCY: (
        r"how often",
        r"how frequently",
        r"how regularly",
        r"at what intervals?",
        r"with what frequency",
        r"wie oft",
        r"wie häufig",
        r"in welchen (?:zeitlichen )?abständen",
        r"à quelle fréquence",
        r"à quel rythme",
        r"tous les combien",
        r"hvor ofte",
        r"med hvilke mellemrum",
        r"jak często",
        r"z jaką częstotliwością",
    ),
    AMOUNT: (
        r"how (?:many|much)",
        r"what (?:percentage|share|amount|threshold|number|proportion)",
        r"maximum",
        r"minimum",
        r"threshold",
        r"fines?",
        r"penalt(?:y|ies)",
        r"ceiling",
        r"cap(?:ped)?",
        r"(?:what|which) (?:\w+ )?(?:numbers|figures|headcount|turnover|budget)",
        r"upper limit",
        r"wie (?:viele|viel|hoch)",
        r"höchst\w*",
        r"schwellenwert",
        r"geldbußen?",
        r"obergrenze",
        r"zwangsgeld(?:er)?",
        r"combien",
        r"quel(?:le)? (?:montant|pourcentage|seuil|nombre)",
        r"seuil",
        r"amendes?",
        r"plafond",
        r"astreintes?",
        r"hvor (?:mange|meget)",
        r"bøder?",
        r"ile",
        r"jaki(?:ej)? (?:kwot|wysokoś)\w*",
        r"kar[ay]?",
    ),
}
_CUE_RES = {
    kind: re.compile(r"(?<!\w)(?:" + "|".join(cues) + r")(?!\w)", re.IGNORECASE)
    for kind, cues in _CUES.items()
}

_COUNT = count_pattern()
_PERIOD = re.compile(
    r"(?<!\w)(?:" + _COUNT + r")(?: \(\d+\))? (?:" + PERIOD_UNITS + r")(?!\w)", re.IGNORECASE
)
_AMOUNT = re.compile(
    r"(?:EUR|€)\s?\d|\d\s?%|\d+(?:[ .,]\d{3})+|\d+ (?:million|billion|millionen|milliarden)"
    r"|(?<!\w)(?:(?:fewer|less|more|lower|higher|greater) than|at least) \d+ (?!(?:"
    + PERIOD_UNITS
    + r")(?!\w))"
    r"|(?<!\w)(?:million|billion|millionen|milliarden)(?!\w)",
    re.IGNORECASE,
)

_FREQUENCY = re.compile(
    r"(?<!\w)(?:(?:once|twice) (?:a|per|every|each) |once every |every (?:" + _COUNT + r") "
    r"|each |every |per )"
    r"(?:calendar |financial )?(?:year|month|week|day|" + PERIOD_UNITS + r")(?!\w)"
    r"|(?<!\w)(?:annually|yearly|quarterly|biannually|at regular intervals|regularly"
    r"|jährlich|einmal (?:im|pro) jahr|alle (?:" + _COUNT + r") (?:jahre|monate)|regelmäßig"
    r"|une fois par (?:an|mois)|tous les (?:" + _COUNT + r") (?:ans|mois)|chaque année|annuellement"
    r"|régulièrement"
    r"|én gang om året|årligt|hvert (?:\w+ )?år|regelmæssigt"
    r"|raz w roku|corocznie|co roku|co (?:najmniej )?(?:\d+|dwa|trzy|sześć) (?:lata|lat|miesięcy)"
    r"|regularnie)(?!\w)",
    re.IGNORECASE,
)

_VALUE_RES = {
    DATE: (WRITTEN_DATE, _PERIOD),
    PERIOD: (_PERIOD, WRITTEN_DATE),
    AMOUNT: (_AMOUNT,),
    FREQUENCY: (_FREQUENCY,),
}


def asked_kind(question: str) -> str | None:
    """The kind of value the question asks for, or None; a frequency beats a period beats a date
    beats an amount ("how often" is a frequency, "how many days" a period, "by what date" a date,
    "what fine" an amount)."""
    for kind in (FREQUENCY, PERIOD, DATE, AMOUNT):
        if _CUE_RES[kind].search(question):
            return kind
    return None


def holds_value(text: str, kind: str) -> bool:
    """Whether the text holds a value that could answer a question of this kind."""
    return any(pattern.search(text) for pattern in _VALUE_RES[kind])


_FIGURE = re.compile(
    r"(?<![^\W\d_])\d|(?<!\w)(?:" + _COUNT + r"|twice|once|hundred|thousand)(?!\w)", re.IGNORECASE
)


VALUE_NAMES = {DATE: "date", PERIOD: "length of time", FREQUENCY: "frequency", AMOUNT: "figure"}
"""How an abstention names the kind of value a question asked for."""


def states_value(text: str, kind: str | None) -> bool:
    """Whether an answer sentence states what a question of this kind asks for: a length of time
    for "how long", a frequency or an interval for "how often", a figure for "how much / how many".
    A date is never required: "when" also asks under what condition."""
    if kind == PERIOD:
        return holds_value(text, PERIOD)
    if kind == FREQUENCY:
        return holds_value(text, FREQUENCY) or holds_value(text, PERIOD)
    if kind == AMOUNT:
        return bool(_FIGURE.search(text))
    return True


# When a provision starts to apply is set in the act's closing article, titled in every act by the
# drafting rules of the EU institutions ("Entry into force and application"; for a directive, also
# "Transposition"), often by citing it ("Article 14 shall apply from 11 September 2026").
_APPLICATION_CUE = re.compile(
    r"(?<!\w)(?:appl(?:y|ies|ied|icable|ication)|enters? into force|entered into force|"
    r"entry into force|"
    r"takes? effect|gelten|gilt|galt|anwendbar|anzuwenden|geltung|in kraft|"
    r"s['’]appliqu\w*|applicables?|en vigueur|"
    r"anvendelse|gælder|træder i kraft|ikrafttræden|stosuje się|stosowan\w*|obowiązuj\w*|w życie"
    r")(?!\w)",
    re.IGNORECASE,
)
_APPLICATION_HEADING = re.compile(
    r"entry into force|transposition|inkrafttreten|geltungsbeginn|umsetzung|entrée en vigueur|"
    r"ikrafttræden|gennemførelse|wejście w życie|transpozycja|entrata in vigore|recepimento|"
    r"entrada en vigor|transposición|inwerkingtreding|omzetting",
    re.IGNORECASE,
)


def asks_when_applicable(question: str) -> bool:
    """Whether the question asks from when something applies or is in force (not any deadline)."""
    return asked_kind(question) == DATE and bool(_APPLICATION_CUE.search(question))


def sets_application_dates(unit_title: str) -> bool:
    """Whether a unit with this title is where an act sets when it (or parts of it) apply."""
    return bool(_APPLICATION_HEADING.search(unit_title))
