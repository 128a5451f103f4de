"""`sovrag eval`: run a JSONL question set through retrieval (and answering) and score it.

The record format is the one of the shared eval README (id, question, must_contain, source_file,
evidence, type, lang). Scoring rules live here, in one place, so the CLI, the bench script and the
tests measure exactly the same thing.

Retrieval recall@k: a question counts as retrieved when every evidence string is found in the
top-k passages. An evidence string is found when, after collapsing whitespace and case-folding,

* it is a substring of one passage, or
* chunk boundaries split it: at least `SPLIT_COVERAGE` of its words lie in runs of at least
  `MIN_RUN` consecutive words (or the whole string, if shorter) that occur verbatim in top-k
  passages. Runs of that length do not occur by chance in legal prose, so this only accepts
  passages that hold the evidence's own wording, cut at a boundary.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .query import normalise_spaces, normalise_text

SPLIT_COVERAGE = 0.6
"""Share of an evidence string's words that top-k passages must hold when a boundary split it."""
MIN_RUN = 8
"""Shortest run of consecutive words that counts as overlap (shorter runs are common phrases)."""
RECALL_KS = (1, 5, 10)


def normalise_ws(text: str) -> str:
    """Case-folded text with every whitespace run (incl. non-breaking spaces) as one space."""
    return normalise_spaces(text)


def normalise_answer(text: str) -> str:
    """Whitespace/case normalisation plus number formats: `35 000 000` = `35,000,000`, `2,5 %` = `2.5%`."""
    return normalise_text(text)


# --------------------------------------------------------------------------- retrieval scoring


def evidence_found(evidence: str, passages: list[str]) -> bool:
    """Whether the passages hold the evidence string, whole or split by chunk boundaries."""
    needle = normalise_ws(evidence)
    if not needle:
        return True
    haystacks = [normalise_ws(p) for p in passages]
    if any(needle in h for h in haystacks):
        return True
    words = needle.split(" ")
    run = min(MIN_RUN, len(words))
    covered = [False] * len(words)
    joined = " \n ".join(haystacks)
    for start in range(0, len(words) - run + 1):
        if " ".join(words[start : start + run]) in joined:
            for i in range(start, start + run):
                covered[i] = True
    return sum(covered) / len(words) >= SPLIT_COVERAGE


def first_rank_retrieved(evidence: list[str], passages: list[str]) -> int | None:
    """Smallest k (1-based) such that the top-k passages hold all evidence; None if never."""
    if not evidence:
        return None
    for k in range(1, len(passages) + 1):
        if all(evidence_found(e, passages[:k]) for e in evidence):
            return k
    return None


# --------------------------------------------------------------------------- answer scoring


def answer_correct(answer: str, must_contain: list[list[str]]) -> bool:
    """Every group of `must_contain` has at least one alternative in the (normalised) answer."""
    text = normalise_answer(answer)
    return all(any(normalise_answer(alt) in text for alt in group) for group in must_contain)


def source_files(question: dict) -> list[str]:
    source = question.get("source_file")
    if source is None:
        return []
    return [source] if isinstance(source, str) else list(source)


def citations_correct(question: dict, cited_docs: Iterable[str]) -> bool:
    """The cited documents include every source file of the question."""
    return set(source_files(question)) <= set(cited_docs)


# --------------------------------------------------------------------------- summaries


@dataclass
class QuestionResult:
    id: str
    type: str
    lang: str
    answerable: bool
    first_hit: int | None = None
    reciprocal_rank: float = 0.0
    answered: bool = False
    correct: bool | None = None
    citations_ok: bool | None = None
    abstained: bool | None = None
    seconds: float | None = None


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def _group_summary(results: list[QuestionResult], ks: Iterable[int]) -> dict:
    answerable = [r for r in results if r.answerable]
    out: dict = {"questions": len(results), "answerable": len(answerable)}
    for k in ks:
        out[f"recall@{k}"] = _mean(
            [1.0 if r.first_hit is not None and r.first_hit <= k else 0.0 for r in answerable]
        )
    out["mrr"] = _mean([r.reciprocal_rank for r in answerable])
    answered = [r for r in results if r.answered]
    if answered:
        ans_ok = [r for r in answered if r.answerable]
        unans = [r for r in answered if not r.answerable]
        out["accuracy"] = _mean([1.0 if r.correct else 0.0 for r in ans_ok])
        out["citation_correct"] = _mean([1.0 if r.citations_ok else 0.0 for r in ans_ok])
        out["false_abstention_rate"] = _mean([1.0 if r.abstained else 0.0 for r in ans_ok])
        out["abstention_rate_unanswerable"] = _mean([1.0 if r.abstained else 0.0 for r in unans])
        # Trust: of the answers actually given, how many are wrong. An answer to a question the
        # corpus cannot answer is wrong whatever it says; an abstention is neither.
        given = [r for r in answered if not r.abstained]
        out["answers_given"] = len(given)
        out["wrong_among_answered"] = _mean(
            [0.0 if r.answerable and r.correct else 1.0 for r in given]
        )
        out["right_among_answered"] = _mean(
            [1.0 if r.answerable and r.correct else 0.0 for r in given]
        )
        out["seconds_per_answer"] = _mean([r.seconds or 0.0 for r in answered])
    return out


def summarise(results: list[QuestionResult], ks: Iterable[int] = RECALL_KS) -> dict:
    """Overall, per type and per language figures (None where a metric has no questions)."""
    ks = list(ks)
    by_type: dict[str, list[QuestionResult]] = defaultdict(list)
    by_lang: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in results:
        by_type[r.type].append(r)
        by_lang[r.lang].append(r)
    return {
        "overall": _group_summary(results, ks),
        "by_type": {t: _group_summary(rs, ks) for t, rs in sorted(by_type.items())},
        "by_lang": {lang: _group_summary(rs, ks) for lang, rs in sorted(by_lang.items())},
    }


def format_summary(summary: dict) -> str:
    """A plain-text table of the summary for the terminal."""
    columns = [
        c
        for c in (
            "questions",
            "recall@1",
            "recall@5",
            "recall@10",
            "mrr",
            "accuracy",
            "citation_correct",
            "false_abstention_rate",
            "abstention_rate_unanswerable",
            "wrong_among_answered",
            "seconds_per_answer",
        )
        if c in summary["overall"]
    ]
    short = {
        "questions": "n",
        "citation_correct": "cite_ok",
        "false_abstention_rate": "false_abst",
        "abstention_rate_unanswerable": "abst_unans",
        "wrong_among_answered": "wrong_ans",
        "seconds_per_answer": "s/answer",
    }
    header = f"{'':<34}" + "".join(f"{short.get(c, c):>11}" for c in columns)
    lines = [header]

    def row(name: str, data: dict) -> None:
        cells = []
        for c in columns:
            v = data.get(c)
            cells.append(
                f"{'-':>11}" if v is None else f"{v:>11}" if isinstance(v, int) else f"{v:>11.3f}"
            )
        lines.append(f"{name:<34}" + "".join(cells))

    row("overall", summary["overall"])
    for t, data in summary["by_type"].items():
        row(f"type={t}", data)
    for lang, data in summary["by_lang"].items():
        row(f"lang={lang}", data)
    return "\n".join(lines)


# --------------------------------------------------------------------------- running


def load_questions(path: Path) -> list[dict]:
    from .errors import SovragError

    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except OSError as exc:
        raise SovragError(f"Cannot read questions file {path}: {exc}") from exc
    questions = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SovragError(f"{path}:{n} is not valid JSON ({exc.msg}).") from exc
        if "id" not in record or "question" not in record:
            raise SovragError(f"{path}:{n} lacks an 'id' or 'question' field.")
        questions.append(record)
    return questions


def _base_result(q: dict) -> QuestionResult:
    return QuestionResult(
        id=str(q["id"]),
        type=q.get("type", "unknown"),
        lang=q.get("lang", "?"),
        answerable=bool(q.get("evidence")),
    )


def run_eval(
    runtime,
    questions: list[dict],
    out_dir: Path,
    k: int = 10,
    retrieval_only: bool = False,
    progress: bool = True,
    questions_file: str = "",
) -> dict:
    """Retrieve (and answer) every question; write retrieval.jsonl, answers.jsonl, summary.json."""
    from tqdm import tqdm

    from .retrieval import build_retriever

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    retriever = build_retriever(runtime)
    assistant = None
    if not retrieval_only:
        from .assistant import Assistant

        assistant = Assistant(runtime)
    results: list[QuestionResult] = []
    latencies: list[float] = []
    with (
        open(out_dir / "retrieval.jsonl", "w", encoding="utf-8") as rfh,
        open(out_dir / "answers.jsonl", "w", encoding="utf-8") if assistant else _nowhere() as afh,
    ):
        for q in tqdm(questions, desc="eval", unit="q", disable=not progress, file=sys.stderr):
            result = _base_result(q)
            started = time.perf_counter()
            hits = retriever.search(q["question"], k=k)
            latencies.append(time.perf_counter() - started)
            passages = [
                {
                    "doc": h.chunk.doc,
                    "locator": h.chunk.locator,
                    "text": h.chunk.text,
                    "score": round(float(h.score), 6),
                }
                for h in hits
            ]
            rfh.write(json.dumps({"id": q["id"], "passages": passages}, ensure_ascii=False) + "\n")
            result.first_hit = first_rank_retrieved(
                q.get("evidence") or [], [p["text"] for p in passages]
            )
            result.reciprocal_rank = 1.0 / result.first_hit if result.first_hit else 0.0
            if assistant is not None:
                _answer_one(assistant, q, result, afh)
            results.append(result)
    summary = summarise(results, [x for x in RECALL_KS if x <= k] or [k])
    summary["retrieval_seconds"] = _latency(latencies)
    summary["k"] = k
    summary["questions_file"] = questions_file
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2), "utf-8")
    return summary


def _answer_one(assistant, q: dict, result: QuestionResult, afh) -> None:
    started = time.perf_counter()
    answer = assistant.answer(q["question"])
    seconds = time.perf_counter() - started
    cited = [c.doc for c in answer.citations]
    afh.write(
        json.dumps(
            {
                "id": q["id"],
                "answer": answer.text,
                "abstained": bool(answer.abstained),
                "abstain_reason": answer.abstain_reason,
                "raw_answer": answer.raw_text,
                "citations": [{"doc": c.doc, "locator": c.locator} for c in answer.citations],
                "sentences": answer.sentence_verdicts(),
                "passages": [
                    {"doc": h.chunk.doc, "locator": h.chunk.locator} for h in answer.passages
                ],
                "standalone_question": answer.standalone_question,
                "seconds": round(seconds, 3),
            },
            ensure_ascii=False,
        )
        + "\n"
    )
    result.answered = True
    result.abstained = bool(answer.abstained)
    result.seconds = seconds
    if result.answerable:
        result.correct = not answer.abstained and answer_correct(
            answer.text, q.get("must_contain") or []
        )
        result.citations_ok = not answer.abstained and citations_correct(q, cited)


def _latency(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))], 4)

    return {"p50": pct(0.5), "p95": pct(0.95), "mean": round(statistics.fmean(values), 4)}


class _nowhere:
    """Stands in for the answers file under --retrieval-only."""

    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None


# --------------------------------------------------------------------------- CLI


def register_cli(sub) -> None:
    from .cli_settings import ANSWERING, settings_parent

    p = sub.add_parser(
        "eval",
        parents=[settings_parent(ANSWERING)],
        help="score retrieval (and answers) on a question set",
    )
    p.add_argument("--questions", type=Path, required=True, help="JSONL file in the eval format")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder for retrieval.jsonl, answers.jsonl, summary.json",
    )
    p.add_argument("--retrieval-only", action="store_true", help="skip answer generation")
    p.add_argument("-k", type=int, default=10, help="passages retrieved per question")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from .cli_settings import settings_from_args
    from .errors import SovragError
    from .runtime import Runtime

    if args.k < 1:
        raise SovragError("-k must be at least 1.")
    questions = load_questions(args.questions)
    runtime = Runtime(settings_from_args(args))
    runtime.generation()  # fail early with a clear message when there is no index
    summary = run_eval(
        runtime,
        questions,
        args.out,
        k=args.k,
        retrieval_only=args.retrieval_only,
        questions_file=str(args.questions),
    )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_summary(summary))
        lat = summary.get("retrieval_seconds", {})
        if lat:
            print(
                f"retrieval latency: p50 {lat['p50'] * 1000:.1f} ms, p95 {lat['p95'] * 1000:.1f} ms"
            )
        print(
            f"written: {args.out}/retrieval.jsonl"
            + ("" if args.retrieval_only else ", answers.jsonl")
            + ", summary.json"
        )
    return 0
