"""`sovrag eval`: scoring rules and a run over a small question file on a small real index."""

from __future__ import annotations

import json

import pytest
from retrieval_fixtures import HashEmbedder, build_index

from rag import evaluation
from rag.evaluation import answer_correct, citations_correct, evidence_found, first_rank_retrieved

QUESTIONS = [
    {
        "id": "q1",
        "question": "How quickly must a controller notify a personal data breach under GDPR Article 33?",
        "must_contain": [["72 hours"]],
        "source_file": "gdpr-2016-679.md",
        "source_locator": "Article 33(1)",
        "evidence": ["not later than 72 hours after having become aware of it"],
        "type": "date/deadline",
        "lang": "en",
    },
    {
        "id": "q2",
        "question": "When must a public sector body carry out an interoperability assessment?",
        "must_contain": [["binding requirements"]],
        "source_file": "interoperable-europe-act-2024-903.md",
        "source_locator": "Article 3(1)",
        "evidence": [
            "a Union entity or a public sector body shall carry out an interoperability assessment"
        ],
        "type": "factoid",
        "lang": "en",
    },
    {
        "id": "q3",
        "question": "Wie hoch ist das Budget für souveräne Cloud?",
        "answer": "not in corpus",
        "must_contain": [],
        "source_file": None,
        "source_locator": None,
        "evidence": [],
        "type": "unanswerable",
        "lang": "de",
    },
]


def test_evidence_split_by_a_chunk_boundary_counts_when_most_is_held():
    evidence = " ".join(f"w{i}" for i in range(20))
    first, second = " ".join(f"w{i}" for i in range(14)), " ".join(f"w{i}" for i in range(14, 20))
    assert evidence_found(evidence, ["x " + first + " y"])  # 70 % in runs of 8+ words
    assert not evidence_found(evidence, [second])  # 30 % is not enough
    assert not evidence_found(
        evidence, [" ".join(f"w{i}" for i in range(0, 20, 2))]
    )  # scattered words
    assert evidence_found("Not  later than\n72 hours", ["... NOT LATER THAN 72 hours ..."])
    assert first_rank_retrieved(["a b c"], ["x", "y a b c"]) == 2
    assert first_rank_retrieved([], ["x"]) is None


def test_answer_matching_normalises_case_space_and_number_formats():
    assert answer_correct("Up to EUR 35,000,000 or 7 % of turnover", [["EUR 35 000 000"], ["7 %"]])
    assert answer_correct("a fine of 2.5% applies", [["2,5 %"]])
    assert not answer_correct("EUR 35 000", [["EUR 35 000 000"]])
    assert answer_correct("Within 72  HOURS.", [["72 hours", "seventy-two hours"]])


def test_citations_must_cover_every_source_file():
    q = {"source_file": ["a.md", "b.md"]}
    assert citations_correct(q, ["b.md", "a.md", "c.md"])
    assert not citations_correct(q, ["a.md"])


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    from rag.config import load_settings
    from rag.runtime import Runtime

    base = tmp_path_factory.mktemp("eval")
    embedder = HashEmbedder()
    path = build_index(base, embedder)
    rt = Runtime(load_settings(index_dir=path, translate_queries=False))
    rt._embedder = embedder  # the index was built with the hash embedder
    rt.settings.embedder = embedder.model_id
    return rt


def test_retrieval_only_run_writes_files_and_scores(runtime, tmp_path):
    summary = evaluation.run_eval(
        runtime, QUESTIONS, tmp_path, k=5, retrieval_only=True, progress=False
    )
    lines = [json.loads(x) for x in (tmp_path / "retrieval.jsonl").read_text().splitlines()]
    assert [x["id"] for x in lines] == ["q1", "q2", "q3"]
    assert set(lines[0]["passages"][0]) == {"doc", "locator", "text", "score"}
    assert not (tmp_path / "answers.jsonl").exists()
    overall = summary["overall"]
    assert overall["answerable"] == 2 and overall["recall@5"] == 1.0
    assert "accuracy" not in overall and "recall@10" not in overall
    assert json.loads((tmp_path / "summary.json").read_text())["overall"]["recall@5"] == 1.0
    assert summary["by_lang"]["de"]["recall@1"] is None


def test_answer_run_scores_accuracy_citations_and_abstention(runtime, tmp_path, monkeypatch):
    replies = {
        QUESTIONS[0]["question"]: ("Within 72 hours [1].", False, ["gdpr-2016-679.md"]),
        QUESTIONS[1]["question"]: ("The indexed documents do not answer this.", True, []),
        QUESTIONS[2]["question"]: ("The indexed documents do not answer this.", True, []),
    }

    class FakeAssistant:
        def __init__(self, rt):
            pass

        def answer(self, question):
            from rag.assistant import Answer, Citation
            from rag.citations import AnswerSentence

            text, abstained, docs = replies[question]
            cites = [Citation(1, d, "", "Article 33(1)", "", "", 1.0) for d in docs]
            checked = [AnswerSentence(text, [1], True)] if docs else []
            return Answer(
                question, text, abstained, citations=cites, sentences=checked, raw_text=text
            )

    import rag.assistant

    monkeypatch.setattr(rag.assistant, "Assistant", FakeAssistant)
    summary = evaluation.run_eval(runtime, QUESTIONS, tmp_path, k=3, progress=False)
    answers = [json.loads(x) for x in (tmp_path / "answers.jsonl").read_text().splitlines()]
    assert answers[0]["citations"] == [{"doc": "gdpr-2016-679.md", "locator": "Article 33(1)"}]
    assert answers[0]["sentences"] == [
        {"text": "Within 72 hours [1].", "citations": [1], "supported": True, "reason": ""}
    ]
    assert answers[1]["sentences"] == [] and answers[1]["passages"] == []
    overall = summary["overall"]
    assert overall["accuracy"] == 0.5 and overall["citation_correct"] == 0.5
    assert (
        overall["false_abstention_rate"] == 0.5 and overall["abstention_rate_unanswerable"] == 1.0
    )
    assert summary["by_type"]["factoid"]["accuracy"] == 0.0


def test_cli_rejects_a_missing_questions_file(runtime, tmp_path, capsys):
    from rag.cli import main

    code = main(
        [
            "eval",
            "--questions",
            str(tmp_path / "none.jsonl"),
            "--out",
            str(tmp_path / "o"),
            "--index",
            str(runtime.settings.index_dir),
            "--embedder",
            "test-hash-embedder",
            "--retrieval-only",
        ]
    )
    assert code == 2 and "Cannot read questions file" in capsys.readouterr().err


def test_trust_counts_wrong_answers_among_those_given_and_not_abstentions():
    def result(answerable, abstained, correct):
        return evaluation.QuestionResult(
            id="q",
            type="factoid",
            lang="en",
            answerable=answerable,
            answered=True,
            abstained=abstained,
            correct=correct,
        )

    results = [
        result(True, False, True),
        result(True, False, False),  # one right, one wrong
        result(True, True, False),  # abstained: neither
        result(False, False, True),
    ]  # unanswerable yet answered
    overall = evaluation.summarise(results)["overall"]
    assert overall["answers_given"] == 3
    assert overall["wrong_among_answered"] == round(2 / 3, 4)
    assert overall["right_among_answered"] == round(1 / 3, 4)
