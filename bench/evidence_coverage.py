"""How often the sentences an evidence-first answer could quote hold the expected answer.

Evidence mode (`answer_mode = "evidence"`) shows the model the N sentence units of the retrieved
passages closest to the question and quotes the ones it points at. Before any model runs, this
measures what that can reach: per question set, the share of answerable questions whose expected
facts (`must_contain`) are all in the top-N candidate sentences, for several N, next to the same
share for the k whole passages a drafted answer reads; and the share reached by quoting the single
closest sentence with no model at all. No generator call (retrieval runs without translation).

    python bench/evidence_coverage.py --index /work/idx --questions ../shared/eval/dev.jsonl \\
        --questions ../shared/eval/dev2.jsonl
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _common import index_settings

from rag import evidence
from rag.evaluation import answer_correct, load_questions
from rag.runtime import Runtime

SIZES = (1, 3, 5, 8, 12)


def coverage(runtime: Runtime, questions: list[dict], k: int) -> dict[str, float]:
    generation = runtime.generation()
    retriever = runtime.retriever(generation)
    reached = {f"top-{n} sentences": 0 for n in SIZES}
    reached[f"{k} passages"] = 0
    answerable = [q for q in questions if q.get("must_contain")]
    for q in answerable:
        hits = retriever.search(q["question"], k=k, translate=False)
        if not hits:
            continue
        vector = runtime.embedder.encode_query(q["question"])
        units = evidence.stored_unit_vectors(hits, generation.sentences)
        if answer_correct(" ".join(h.chunk.text for h in hits), q["must_contain"]):
            reached[f"{k} passages"] += 1
        for n in SIZES:
            shown = evidence.candidates(hits, vector, units, n)
            if answer_correct(" ".join(c.text for c in shown), q["must_contain"]):
                reached[f"top-{n} sentences"] += 1
    return {name: count / max(len(answerable), 1) for name, count in reached.items()} | {
        "answerable": len(answerable)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, action="append", required=True)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    runtime = Runtime(index_settings(args.index))
    for path in args.questions:
        figures = coverage(runtime, load_questions(path), args.k)
        cells = ", ".join(
            f"{name} {value:.3f}" for name, value in figures.items() if name != "answerable"
        )
        print(f"{path.name} ({figures['answerable']} answerable): {cells}")


if __name__ == "__main__":
    main()
