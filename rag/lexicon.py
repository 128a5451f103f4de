"""The multilingual legal words several modules read: month names and dates, small numbers written
as words, units of time, the words that name a unit of an act (article, annex, recital) and the
words that precede a reference number. One place, so that a language added here reaches question
analysis, answer kinds and the answer check alike. Languages: the corpus's (English, German,
French, Danish, Polish; number words in English, German and French), plus a few Romance forms of
the unit words."""

from __future__ import annotations

import re

_MONTHS_BY_LANGUAGE = (
    "january february march april may june july august september october november december",
    "januar februar märz april mai juni juli august september oktober november dezember",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "januar februar marts april maj juni juli august september oktober november december",
    "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada "
    "grudnia",
)
MONTH_NUMBERS = {
    name: number
    for names in _MONTHS_BY_LANGUAGE
    for number, name in enumerate(names.split(), start=1)
}
"""Month names as dates write them ("25 mai 2018", "1 sierpnia 2024": Polish in the genitive),
with the month's number."""
MONTHS = frozenset(MONTH_NUMBERS)
_ENGLISH_MONTHS = [name.capitalize() for name in _MONTHS_BY_LANGUAGE[0].split()]


def months_pattern() -> str:
    """The month names as a regex alternation, longest first."""
    return "|".join(sorted(MONTHS, key=lambda m: (-len(m), m)))


DATE = re.compile(
    rf"(?<![\w.])(\d{{1,2}})\.?\s+({months_pattern()})\s+(\d{{4}})(?!\d)", re.IGNORECASE
)
"""A calendar date written out ("17 July 2024", "17. Juli 2024", "1 sierpnia 2024")."""


def human_date(iso: str) -> str:
    """An ISO date written out in English: '2016-05-04' → '4 May 2016'."""
    year, month, day = iso.split("-")
    return f"{int(day)} {_ENGLISH_MONTHS[int(month) - 1]} {year}"


def dates_in(text: str) -> set[tuple[int, int, int]]:
    """The calendar dates a text writes out, as (year, month, day), whatever its language."""
    return {
        (int(m.group(3)), MONTH_NUMBERS[m.group(2).lower()], int(m.group(1)))
        for m in DATE.finditer(text)
    }


_ONES = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
NUMBER_WORDS = {word: n for n, word in enumerate(_ONES, start=1)}
NUMBER_WORDS.update({tens: 20 + 10 * i for i, tens in enumerate(_TENS)})
NUMBER_WORDS.update(
    {
        f"{tens}-{one}": 20 + 10 * i + n
        for i, tens in enumerate(_TENS)
        for n, one in enumerate(_ONES[:9], start=1)
    }
)
NUMBER_WORDS.update(
    zip("zwei drei vier fünf sechs sieben acht neun zehn elf zwölf".split(), range(2, 13))
)
NUMBER_WORDS.update(
    zip("deux trois quatre cinq six sept huit neuf dix onze douze".split(), range(2, 13))
)
NUMBER_WORDS["trente"] = 30
"""Small numbers as legislation writes them in words ("within two months", "zwei Jahre"), with
their value: English, German and French (Danish "to" and "en" are English and French words)."""


def count_pattern() -> str:
    """A count as a regex alternation: digits, or a number word (longest first)."""
    return r"\d+|" + "|".join(sorted(NUMBER_WORDS, key=lambda w: (-len(w), w)))


PERIOD_UNITS = (
    r"(?:working |calendar )?(?:hours?|days?|weeks?|months?|years?)|"
    r"[^\W\d_]*(?:stunden|tagen?|wochen|monaten?|jahren?)|"  # German compounds: "Arbeitstage"
    r"heures|jours|semaines|mois|ans|années|"
    r"timer|dage|uger|måneder|år|godzin|dni|tygodni|miesięcy|lat"
)
"""Regex alternation of the words after a count that make it a length of time ("72 hours",
"drei Monate", "30 jours", "14 dage", "6 miesięcy")."""

UNIT_WORDS = {
    "article": r"articles?|arts?\.?|artikel|artikels|artikeln|artykuł(?:u|y|ów)?|artículo|articolo|artigo",
    "annex": r"annex(?:es)?|annexe|anhang|anhangs|anlage|bilag|załącznik(?:a|u)?|anexo|allegato",
    "recital": r"recitals?|erwägungsgrund|erwägungsgrunds|considérant|betragtning|motyw|considerando",
}
"""Regex alternations of the words that name an article, an annex or a recital, by unit kind."""

REFERENCE_WORDS = (
    r"article|art\.|paragraph|para\.|point|annex|recital|section|chapter|title|no\.|nr\.|"
    r"artikel|absatz|abs\.|anhang|erwägungsgrund|paragraphe|annexe|considérant|stk\.|bilag|"
    r"betragtning|artykuł|ust\.|załącznik|motyw"
)
"""Words after which a number numbers something ("Article 5", "Absatz 3") rather than counts it."""
