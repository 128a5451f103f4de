"""Compare BM25 only, dense only and the product's retrieval on the same index and questions.

Prints recall@5, recall@1, MRR, recall@5 per question language and query latency p50/p95 (query
encoding + search + fusion; with translation, the generator call too). Figures, never pass/fail.

    python bench/retrieval_compare.py --index /work/idx-b --questions ../shared/eval/dev.jsonl
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from rag.config import load_settings
from rag.evaluation import first_rank_retrieved, load_questions
from rag.retrieval import RetrievalOptions, Retriever
from rag.runtime import Runtime
from rag.translate import QueryTranslator

PLAIN = dict(act_scope=False, language_scope=False, references=False, exact=False, headings=False,
             translate=False, cover_acts=False, strip_act_names=False, recital_prior=1.0, rrf_k=60,
             weight_dense=1.0, weight_sentence=0.0, weight_applicability=0.0, weight_application_article=0.0,
             weight_answer_kind=0.0, weight_cited_paragraph=0.0, acronyms=False)
SYSTEMS: dict[str, dict] = {
    "bm25 only": dict(PLAIN, dense=False),
    "dense only": dict(PLAIN, lexical=False),
    "bm25+dense RRF (baseline)": dict(PLAIN),
    "product without sentence vectors, no translation": dict(translate=False, weight_dense=1.0, weight_sentence=0.0),
    "product without the application-date list, no translation": dict(translate=False, weight_applicability=0.0),
    "product without the closing-article list, no translation": dict(translate=False, weight_application_article=0.0),
    "product without the cited-paragraph list, no translation": dict(translate=False, weight_cited_paragraph=0.0),
    "product, no translation": dict(translate=False),
    "product (with translation)": {},
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def run(retriever: Retriever, questions: list[dict], k: int) -> dict:
    firsts: dict[str, int | None] = {}
    latencies = []
    for q in questions:
        started = time.perf_counter()
        hits = retriever.search(q["question"], k=k)
        latencies.append(time.perf_counter() - started)
        if q.get("evidence"):
            firsts[q["id"]] = first_rank_retrieved(q["evidence"], [h.chunk.text for h in hits])
    answerable = [q for q in questions if q.get("evidence")]

    def recall(at: int, lang: str | None = None) -> float:
        pool = [q for q in answerable if lang is None or q["lang"] == lang]
        return sum(1 for q in pool if (firsts[q["id"]] or k + 1) <= at) / max(1, len(pool))

    langs = sorted({q["lang"] for q in answerable})
    return {
        "recall@1": recall(1), "recall@5": recall(5),
        "mrr": statistics.fmean(1 / firsts[q["id"]] if firsts[q["id"]] else 0.0 for q in answerable),
        "by_lang": {lang: recall(5, lang) for lang in langs},
        "p50_ms": percentile(latencies, 0.5) * 1000, "p95_ms": percentile(latencies, 0.95) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--skip-translation", action="store_true", help="no generator calls at all")
    args = parser.parse_args()
    runtime = Runtime(load_settings(index_dir=args.index))
    generation = runtime.generation()
    questions = load_questions(args.questions)
    runtime.embedder.encode_query("warm-up")
    translator = QueryTranslator(lambda: runtime.generator)
    words = [len(c.chunk.text.split()) for c in generation.stored_chunks()]
    print(f"index: {generation.size} passages, mean {statistics.fmean(words):.1f} words "
          f"(max {max(words)}); {len(questions)} questions", file=sys.stderr)
    rows = []
    for name, overrides in SYSTEMS.items():
        if args.skip_translation and name.endswith("(with translation)"):
            continue
        retriever = Retriever(generation, runtime.embedder, translator=translator,
                              options=RetrievalOptions(**overrides))
        retriever.search("warm-up", k=1)  # per-generation tables are built once, not timed
        if not overrides:
            retriever.search("Wann gilt die Verordnung?", k=1)  # loads the generator, not timed
        rows.append((name, run(retriever, questions, args.k)))
        print(f"done: {name}", file=sys.stderr)
    langs = sorted({lang for _, r in rows for lang in r["by_lang"]})
    header = "| system | recall@5 | recall@1 | MRR | " + " | ".join(f"r@5 {lang}" for lang in langs) \
        + " | p50 ms | p95 ms |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, r in rows:
        cells = " | ".join(f"{r['by_lang'].get(lang, 0):.2f}" for lang in langs)
        print(f"| {name} | {r['recall@5']:.3f} | {r['recall@1']:.3f} | {r['mrr']:.3f} | {cells} | "
              f"{r['p50_ms']:.0f} | {r['p95_ms']:.0f} |")
    print(f"\ngenerator calls for translation: {translator.calls}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
