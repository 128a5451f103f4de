"""End to end with the real models: bundled embedder, fast generator, and the default generator."""

from __future__ import annotations

import pytest

from rag.assistant import Assistant

pytestmark = pytest.mark.slow


def test_search_finds_ai_act_article_99(small_index):
    hits = small_index.retriever().search("maximum fine for prohibited AI practices", k=5)
    assert any(
        h.chunk.doc == "eu-ai-act-2024-1689.md" and h.chunk.locator.startswith("Article 99")
        for h in hits
    )
    top = hits[0]
    assert top.chunk.text and top.chunk.locator and top.score > 0


def test_ask_with_fast_model_cites_only_retrieved_passages(small_index):
    answer = Assistant(small_index).answer(
        "What is the maximum fine for prohibited AI practices under the AI Act?"
    )
    assert answer.text.strip()
    assert answer.passages, "retrieval returned nothing"
    retrieved = {h.chunk.id for h in answer.passages}
    for citation in answer.citations:
        assert citation.chunk_id in retrieved
        assert answer.passages[citation.n - 1].chunk.id == citation.chunk_id
    data = answer.to_dict()
    assert set(data) >= {"answer", "abstained", "citations", "passages"}


FINE_QUESTION = "What is the maximum fine for prohibited AI practices under the AI Act?"


@pytest.fixture(scope="module")
def default_runtime(small_index):
    """The small index answered by the default generator."""
    from rag.config import load_settings
    from rag.runtime import Runtime

    return Runtime(small_index.settings.model_copy(update={"generator": load_settings().generator}))


@pytest.fixture(scope="module")
def fine_answer(default_runtime):
    return Assistant(default_runtime).answer(FINE_QUESTION, log=False)


def test_default_model_answers_the_fine_question(fine_answer):
    """The product's promise on its default generator: the right number, cited to Article 99."""
    answer = fine_answer
    assert not answer.abstained, answer.raw_text
    assert "35 000 000" in answer.text.replace(",", " ").replace(".", " "), answer.text
    assert any(
        c.doc == "eu-ai-act-2024-1689.md" and c.locator.startswith("Article 99")
        for c in answer.citations
    )


def _recheck(runtime, raw: str, hits) -> list:
    """The default model's draft `raw`, altered by the test, checked again on the same passages."""
    from rag.assistant import Answer

    answer = Answer(question=FINE_QUESTION, text="", abstained=True, passages=hits, lang="en")
    Assistant(runtime)._finish(answer, raw, hits, "en", FINE_QUESTION)
    return answer.sentences


def _fine_sentence(answer) -> str:
    """The draft's first sentence that states the 35 million figure (markers kept)."""
    from rag.citations import split_sentences

    raw = " ".join(answer.raw_text.split())
    return next(s.text for s in split_sentences(raw) if "35" in s.text and "000" in s.text)


def test_a_figure_planted_in_the_default_models_draft_is_not_supported(
    default_runtime, fine_answer
):
    sentence = _fine_sentence(fine_answer)
    for planted in (sentence, sentence.replace("35", "45", 1)):
        (checked,) = _recheck(default_runtime, planted, fine_answer.passages)
        assert checked.supported == (planted == sentence), (planted, checked.reason)


def test_an_echo_of_the_question_beside_the_default_models_draft_is_not_supported(
    default_runtime, fine_answer
):
    """The model's own sentence keeps its support when what it adds to the question is checked;
    the question turned into a statement with an invented reason, on the same source, does not."""
    sentence = _fine_sentence(fine_answer)
    (as_drafted,) = _recheck(default_runtime, sentence, fine_answer.passages)
    assert as_drafted.supported and as_drafted.cited, as_drafted.reason
    echo = (
        "The maximum fine for prohibited AI practices under the AI Act is meant to deter "
        f"reckless start-ups [{as_drafted.cited[0]}]."
    )
    _, checked = _recheck(default_runtime, f"{sentence} {echo}", fine_answer.passages)
    assert not checked.supported and "what it adds to the question" in checked.reason


def test_markers_put_in_front_of_the_default_models_sentence_cite_it(default_runtime, fine_answer):
    from rag.citations import strip_markers

    sentence = _fine_sentence(fine_answer)
    (as_drafted,) = _recheck(default_runtime, sentence, fine_answer.passages)
    assert as_drafted.cited, "the drafted sentence cites a source to move in front"
    markers = "".join(f"[{n}]" for n in as_drafted.cited)
    (in_front,) = _recheck(
        default_runtime, f"{markers} {strip_markers(sentence)}", fine_answer.passages
    )
    assert in_front.cited == as_drafted.cited and in_front.supported, in_front.reason


def test_a_draft_from_another_act_than_the_one_named_is_withdrawn(default_runtime):
    """Asked about the GDPR but shown only AI Act passages, whatever the default model drafts
    from them is not shown as a checked answer about the GDPR. A sentence of the draft that cites
    no passage (the model saying the sources do not give the figure, in the question's words) is
    not attached to an AI Act passage through those words; every sentence that cites one is
    withdrawn by the act check."""
    from rag.retrieval import SearchFilters

    answer = Assistant(default_runtime).answer(
        "What is the maximum fine under the GDPR for infringing its basic principles?",
        filters=SearchFilters(docs=["eu-ai-act-2024-1689.md"]),
        log=False,
    )
    assert all(p.chunk.doc == "eu-ai-act-2024-1689.md" for p in answer.passages)
    assert answer.abstained and not answer.citations, answer.text
    citing = [s for s in answer.sentences if s.cited]
    assert citing, "the model drafted from the passages; the check is what withdrew it"
    assert not any(s.supported for s in answer.sentences), answer.sentences
    for sentence in citing:
        assert "not an act the question names" in sentence.reason, sentence


def test_absent_topic_abstains_with_fast_model(small_index):
    answer = Assistant(small_index).answer(
        "What is the recipe for traditional Danish rye bread with caraway?"
    )
    assert answer.abstained, [(s.text, s.cited, s.supported, s.reason) for s in answer.sentences]
    assert not answer.citations
    assert answer.text == "The indexed documents do not answer this."
    assert answer.passages, "closest passages are still offered as possibly related"


def test_question_about_an_act_the_index_lacks_abstains(small_index):
    """Retrieval always finds passages about fines; the act asked about is not indexed, so no
    answer can come from them, and the reason names the act."""
    answer = Assistant(small_index).answer(
        "What fines can be imposed under the European Media Freedom Act?"
    )
    assert answer.abstained and "European Media Freedom Act" in answer.abstain_reason, (
        answer.raw_text
    )
    assert not answer.citations and answer.passages


def test_follow_up_and_provenance_replay(small_index):
    assistant = Assistant(small_index)
    history = [
        {
            "role": "user",
            "content": "What is the maximum fine for prohibited AI practices under the AI Act?",
        },
        {"role": "assistant", "content": "Up to EUR 35 000 000 or 7 % of turnover [1]."},
    ]
    answer = assistant.answer("And who supervises it?", history=history)
    assert answer.standalone_question and answer.standalone_question != ""
    entry = small_index.provenance.get(answer.id)
    assert entry is not None and entry["question"] == "And who supervises it?"
    assert entry["generation"] == small_index.generation().name
    assert entry["model"]["sha256"] and entry["passages"]
    result = assistant.replay(entry)
    assert result["identical"], result


def test_default_model_points_at_the_sentence_that_answers(small_index):
    """Evidence mode: the answer is the passage's own sentence, quoted and cited, not a rewrite."""
    from rag.citations import strip_markers
    from rag.config import load_settings
    from rag.runtime import Runtime

    settings = small_index.settings.model_copy(
        update={"generator": load_settings().generator, "answer_mode": "evidence"}
    )
    answer = Assistant(Runtime(settings)).answer(
        "What is the maximum fine for prohibited AI practices under the AI Act?", log=False
    )
    assert not answer.abstained, answer.raw_text
    assert "35 000 000" in answer.text, answer.text
    assert any(c.locator.startswith("Article 99") for c in answer.citations), answer.citations
    for sentence in answer.sentences:
        quoted = strip_markers(sentence.text).rstrip(".")
        assert sentence.supported and len(sentence.cited) == 1
        assert quoted in answer.passages[sentence.cited[0] - 1].chunk.text, sentence.text
