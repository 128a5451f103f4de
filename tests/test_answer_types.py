"""The kind of value a question asks for, and which passages hold one."""

from __future__ import annotations

import pytest

from rag.answer_types import (
    AMOUNT,
    DATE,
    FREQUENCY,
    PERIOD,
    asked_kind,
    asks_when_applicable,
    holds_value,
    sets_application_dates,
    states_value,
)


@pytest.mark.parametrize(
    "question,kind",
    [
        ("By what date must Member States designate an authority?", DATE),
        ("From when does Chapter V apply?", DATE),
        ("Which obligation starts to apply first?", DATE),
        ("Ab wann gilt der Interoperable Europe Act?", DATE),
        ("À partir de quand l'obligation s'applique-t-elle ?", DATE),
        ("Fra hvilken dato finder dataforordningen anvendelse?", DATE),
        ("Od kiedy stosuje się akt w sprawie sztucznej inteligencji?", DATE),
        ("How long may testing in real-world conditions last?", PERIOD),
        ("Within how many hours must a breach be notified?", PERIOD),
        ("Innerhalb welcher Frist muss die Meldung erfolgen?", PERIOD),
        ("Dans quel délai le responsable doit-il effacer les données ?", PERIOD),
        ("What is the maximum fine for a gatekeeper?", AMOUNT),
        ("How many representatives sit on the Board?", AMOUNT),
        ("Wie hoch ist die Geldbuße?", AMOUNT),
        ("What is the maximum retention period for the logs?", PERIOD),
        ("How long is the transitional period for existing contracts?", PERIOD),
        ("What is the ceiling on the penalty payments?", AMOUNT),
        ("Is the fee capped?", AMOUNT),
        ("Which figures must the annual report contain?", AMOUNT),
        ("What turnover makes an undertaking a large enterprise?", AMOUNT),
        ("Quel est le plafond des astreintes journalières ?", AMOUNT),
        ("Gibt es eine Obergrenze für Zwangsgelder?", AMOUNT),
        ("How often must very large online platforms be audited?", FREQUENCY),
        ("Wie oft muss der Bericht veröffentlicht werden?", FREQUENCY),
        ("À quelle fréquence les plateformes doivent-elles publier ce nombre ?", FREQUENCY),
        ("Who must approve the cybersecurity risk-management measures?", None),
        ("What does 'connected product' mean?", None),
    ],
)
def test_asked_kind(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize(
    "text,kind,expected",
    [
        ("Chapters I and II shall apply from 2 February 2025;", DATE, True),
        (
            "not later than 72 hours after having become aware of it",
            DATE,
            True,
        ),  # a period answers "when"
        ("not longer than six months, which may be extended", PERIOD, True),
        ("innerhalb von 24 Stunden", PERIOD, True),
        ("administrative fines of up to EUR 35 000 000 or 7 % of turnover", AMOUNT, True),
        ("45 million average monthly active recipients", AMOUNT, True),
        ("The Board shall be composed of one representative per Member State.", AMOUNT, False),
        ("shall not apply to an organisation employing fewer than 50 persons", AMOUNT, True),
        ("a platform with at least 10 000 business users", AMOUNT, True),
        ("for more than 24 hours", AMOUNT, False),  # a period, not a count
        ("as referred to in Article 5(1), point (a)", DATE, False),
        ("as referred to in Article 5(1), point (a)", PERIOD, False),
        ("Regulation (EU) 2016/679 applies", AMOUNT, False),
        (
            "shall be subject, at their own expense and at least once a year, to independent audits",
            FREQUENCY,
            True,
        ),
        (
            "shall carry out at least every 3 years advanced testing by means of TLPT",
            FREQUENCY,
            True,
        ),
        ("By 17 February 2023 and at least once every six months thereafter", FREQUENCY, True),
        ("mindestens alle zwei Jahre", FREQUENCY, True),
        ("une fois par an", FREQUENCY, True),
        ("within 72 hours of becoming aware", FREQUENCY, False),
        ("an annual supervisory fee", FREQUENCY, False),
        ("each Member State shall designate", FREQUENCY, False),
    ],
)
def test_holds_value(text, kind, expected):
    assert holds_value(text, kind) is expected


@pytest.mark.parametrize(
    "question, expected",
    [
        ("From which date does the Data Act apply?", True),
        ("When did the Digital Markets Act start to apply?", True),
        ("When does the Regulation enter into force?", True),
        ("Ab wann gelten die Pflichten für Anbieter?", True),
        ("À partir de quand l'obligation de conception s'applique-t-elle ?", True),
        ("Fra hvilken dato finder dataforordningen anvendelse?", True),
        ("Od kiedy stosuje się rozporządzenie?", True),
        # A deadline for someone to act, or no date at all, is another question.
        ("By what date must every Member State have a regulatory sandbox?", False),
        ("Which rules apply to providers of general-purpose AI models?", False),
        ("How long does the transitional period apply?", False),
    ],
)
def test_asks_when_applicable(question, expected):
    assert asks_when_applicable(question) is expected


@pytest.mark.parametrize(
    "title, expected",
    [
        ("Entry into force and application", True),
        ("Entry into force", True),
        ("Transposition", True),
        ("Ikrafttræden og anvendelse", True),
        ("Wejście w życie i rozpoczęcie stosowania", True),
        ("Inkrafttreten und Geltungsbeginn", True),
        ("Penalties", False),
        ("Evaluation and review", False),
    ],
)
def test_sets_application_dates(title, expected):
    assert sets_application_dates(title) is expected


@pytest.mark.parametrize(
    "text, kind, expected",
    [
        ("It must be notified within 72 hours.", "period", True),
        ("The company has fünf Arbeitstage to object.", "period", True),
        ("It must be notified without undue delay.", "period", False),
        ("The programme is updated at least once every three years.", "frequency", True),
        ("ENISA organises the exercises every two years.", "frequency", True),
        ("The Commission publishes a rolling work programme.", "frequency", False),
        ("At the request of two or more Member States.", "amount", True),
        ("The fine is up to 6 % of turnover.", "amount", True),
        ("NIS2 entities must report.", "amount", False),
        ("It applies where the threat is severe.", "date", True),
        ("Anything at all.", None, True),
    ],
)
def test_an_answer_states_the_value_its_question_asks_for(text, kind, expected):
    assert states_value(text, kind) is expected
