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


def test_default_model_answers_the_fine_question(small_index):
    """The product's promise on its default generator: the right number, cited to Article 99."""
    from rag.config import load_settings
    from rag.runtime import Runtime

    settings = small_index.settings.model_copy(update={"generator": load_settings().generator})
    runtime = Runtime(settings)
    answer = Assistant(runtime).answer(
        "What is the maximum fine for prohibited AI practices under the AI Act?"
    )
    assert not answer.abstained, answer.raw_text
    assert "35 000 000" in answer.text.replace(",", " ").replace(".", " "), answer.text
    assert any(
        c.doc == "eu-ai-act-2024-1689.md" and c.locator.startswith("Article 99")
        for c in answer.citations
    )


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
