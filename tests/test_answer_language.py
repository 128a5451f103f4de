"""A question in another language than its passages is answered in theirs, checked there, and
the checked sentences are translated back for the reader."""

from __future__ import annotations

from rag.assistant import Answer, Assistant, Delta

try:
    from tests.test_api_fixtures import ScriptedGenerator, tiny_runtime
except ImportError:  # run from inside tests/
    from test_api_fixtures import ScriptedGenerator, tiny_runtime

QUESTION = "Welche Ziele verfolgt die Verordnung für interoperable europäische Lösungen?"
ENGLISH = "What objectives does the regulation on interoperable European solutions pursue?"


class FakeTranslator:
    """German question → fixed English; English sentences → 'DE: …' (or with a figure added)."""

    def __init__(self, change_figures: bool = False) -> None:
        self.change_figures = change_figures
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, text, source_lang, target_lang="en", kind="question", max_tokens=None):
        self.calls.append((text, target_lang, kind))
        if target_lang == "en":
            return ENGLISH
        return "DE: " + text + (" binnen 99 Tagen" if self.change_figures else "")


def _answer(tmp_path, translator: FakeTranslator, **overrides):
    runtime = tiny_runtime(tmp_path, **overrides)
    runtime._generator = generator = ScriptedGenerator()  # answers with source [1]'s first clause
    runtime._translator = translator
    return list(Assistant(runtime).stream(QUESTION)), generator


def test_the_draft_is_written_from_the_translated_question_and_shown_translated(tmp_path):
    translator = FakeTranslator()
    events, _ = _answer(tmp_path, translator)
    answer = events[-1]
    assert isinstance(answer, Answer) and not answer.abstained, answer.abstain_reason
    assert answer.lang == "de"
    deltas = [e.text for e in events if isinstance(e, Delta)]
    assert "".join(deltas) == answer.text, "the English draft is not streamed, only the translation"
    assert answer.sentences and all(s.text.startswith("DE: ") for s in answer.sentences)
    for sentence in answer.sentences:  # the checked English sentence follows its translation
        english = sentence.text.split(" (“")[0].removeprefix("DE: ")
        assert sentence.text == f"DE: {english} (“{english}”) [1]"
    assert answer.text.rstrip().endswith("[1]") and answer.citations[0].n == 1
    assert not answer.raw_text.startswith("DE: ")  # the draft itself stays as written (provenance)
    assert ("en", "question") in {(t, k) for _, t, k in translator.calls}
    assert ("de", "sentence") in {(t, k) for _, t, k in translator.calls}


def test_the_searched_translation_is_recorded_with_the_answer(tmp_path):
    runtime = tiny_runtime(tmp_path)
    runtime._generator = ScriptedGenerator()
    runtime._translator = FakeTranslator()
    answer = Assistant(runtime).answer(QUESTION)
    assert ENGLISH in answer.searched and answer.to_dict()["searched"] == answer.searched
    assert runtime.provenance.get(answer.id)["searched"] == answer.searched


def test_a_translation_that_changes_a_figure_is_not_shown(tmp_path):
    events, _ = _answer(tmp_path, FakeTranslator(change_figures=True))
    answer = events[-1]
    assert not answer.abstained and answer.sentences
    assert all(not s.text.startswith("DE: ") and "99" not in s.text for s in answer.sentences)
    assert answer.text == " ".join(s.text for s in answer.sentences)


def test_switched_off_the_question_is_answered_as_asked(tmp_path):
    translator = FakeTranslator()
    events, _ = _answer(tmp_path, translator, answer_in_sources_language=False)
    assert not any(kind == "sentence" and target == "de" for _, target, kind in translator.calls)
    assert not any(isinstance(e, Delta) and e.text.startswith("DE: ") for e in events)


def test_each_translated_sentence_is_shown_as_soon_as_it_is_translated(tmp_path):
    runtime = tiny_runtime(tmp_path)
    runtime._generator = ScriptedGenerator(clauses=2)  # two sentences of source [1]
    runtime._translator = translator = FakeTranslator()
    translated_at_first_delta = None
    deltas = []
    for event in Assistant(runtime).stream(QUESTION):
        if isinstance(event, Delta):
            if translated_at_first_delta is None:
                translated_at_first_delta = [k for _, t, k in translator.calls if t == "de"]
            deltas.append(event.text)
    answer = event
    assert isinstance(answer, Answer) and len(answer.sentences) == 2, answer.abstain_reason
    assert translated_at_first_delta == ["sentence"], "the first sentence waits for no other"
    assert deltas[0] == answer.sentences[0].text and "".join(deltas) == answer.text
