"""Compare plain baselines with the product's retrieval, and ablate every signal and mechanism.

For each question set: recall@5, recall@1, recall@10, MRR, recall@5 per question language and per
comparison question, and query latency p50/p95 (query encoding + search + fusion; in the product
row, the generator's translation too). One row per entry of `rag.signals.SIGNALS` switched off (its
weight set to 0), and one per query mechanism (act scope, language scope, …) switched off. The
ablation rows search as the product does, with query translation: the product row translates each
question once and the ablation rows reuse the cached translation, so their latencies leave it out.
`--skip-translation` runs the product and the ablations without it. Figures, never pass/fail.

    python bench/retrieval_compare.py --index /work/idx \\
        --questions ../shared/eval/dev.jsonl --questions ../shared/eval/dev2.jsonl \\
        --out bench/results/retrieval_compare.md
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from _common import index_settings, percentile

from rag.evaluation import first_rank_retrieved, load_questions
from rag.retrieval import RetrievalOptions, Retriever
from rag.runtime import Runtime
from rag.signals import SIGNALS
from rag.translate import QueryTranslator

_OFF = {s.weight: 0.0 for s in SIGNALS if s.name not in ("dense", "bm25")}
PLAIN = dict(
    _OFF,
    act_scope=False,
    language_scope=False,
    translate=False,
    cover_acts=False,
    strip_act_names=False,
    acronyms=False,
    recital_prior=1.0,
    notes_prior=1.0,
    rrf_k=60,
    weight_dense=1.0,
)
PRODUCT = "product (with translation)"
MECHANISMS = {
    "act scope": {"act_scope": False},
    "language scope": {"language_scope": False},
    "act names stripped from the query": {"strip_act_names": False},
    "acronyms added to the query": {"acronyms": False},
    "each named act covered": {"cover_acts": False},
    "recital prior": {"recital_prior": 1.0},
    "notes prior": {"notes_prior": 1.0},
    "meaning gate on the question kind (cue words alone)": {"question_kind": "cues"},
    "cue words for the question kind (meaning alone)": {"question_kind": "meaning"},
}


def systems(translate: bool = True) -> dict[str, dict]:
    """The rows in the order they run: the product row (which translates) before its ablations."""
    rows: dict[str, dict] = {
        "bm25 only": dict(PLAIN, weight_dense=0.0, dense=False),
        "dense only": dict(PLAIN, weight_lexical=0.0, lexical=False),
        "bm25+dense RRF (baseline)": dict(PLAIN),
        "product, no translation": {"translate": False},
    }
    if translate:
        rows[PRODUCT] = {}
    product = {} if translate else {"translate": False}
    defaults = RetrievalOptions()
    for signal in SIGNALS:
        if getattr(defaults, signal.weight) > 0:
            rows[f"without signal: {signal.name}"] = dict(product, **{signal.weight: 0.0})
    for name, overrides in MECHANISMS.items():
        if any(getattr(defaults, key) != value for key, value in overrides.items()):
            rows[f"without mechanism: {name}"] = dict(product, **overrides)
    return rows


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

    def recall(at: int, keep=lambda q: True) -> float:
        pool = [q for q in answerable if keep(q)]
        return sum(1 for q in pool if (firsts[q["id"]] or k + 1) <= at) / max(1, len(pool))

    langs = sorted({q["lang"] for q in answerable})
    return {
        "recall@1": recall(1),
        "recall@5": recall(5),
        "recall@10": recall(10),
        "mrr": statistics.fmean(
            1 / firsts[q["id"]] if firsts[q["id"]] else 0.0 for q in answerable
        ),
        "comparison": recall(5, lambda q: q["type"].startswith("comparison")),
        "by_lang": {lang: recall(5, lambda q, lang=lang: q["lang"] == lang) for lang in langs},
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
    }


def table(rows: list[tuple[str, dict]]) -> list[str]:
    langs = sorted({lang for _, r in rows for lang in r["by_lang"]})
    header = (
        "| system | recall@5 | recall@1 | recall@10 | MRR | r@5 comparison | "
        + " | ".join(f"r@5 {lang}" for lang in langs)
        + " | p50 ms | p95 ms |"
    )
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for name, r in rows:
        cells = " | ".join(f"{r['by_lang'].get(lang, 0):.2f}" for lang in langs)
        lines.append(
            f"| {name} | {r['recall@5']:.3f} | {r['recall@1']:.3f} | {r['recall@10']:.3f} | "
            f"{r['mrr']:.3f} | "
            f"{r['comparison']:.2f} | {cells} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument(
        "--questions",
        type=Path,
        action="append",
        required=True,
        help="a JSONL question set; give it several times for several sets",
    )
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--skip-translation", action="store_true", help="no generator calls at all")
    parser.add_argument("--out", type=Path, default=None, help="also write the tables to this file")
    args = parser.parse_args()
    runtime = Runtime(index_settings(args.index))
    generation = runtime.generation()
    runtime.embedder.encode_query("warm-up")
    translator = QueryTranslator(lambda: runtime.generator)
    words = [len(c.chunk.text.split()) for c in generation.stored_chunks()]
    report = [
        (
            f"index: {generation.size} passages, mean {statistics.fmean(words):.1f} words "
            f"(max {max(words)})"
        ),
        "",
    ]
    for path in args.questions:
        questions = load_questions(path)
        rows = []
        for name, overrides in systems(not args.skip_translation).items():
            retriever = Retriever(
                generation,
                runtime.embedder,
                translator=translator,
                options=RetrievalOptions(**overrides),
            )
            retriever.search("warm-up", k=1)  # per-generation tables are built once, not timed
            if name == PRODUCT:
                retriever.search("Wann gilt die Verordnung?", k=1)  # loads the generator, not timed
            rows.append((name, run(retriever, questions, args.k)))
            print(f"done: {path.name}: {name}", file=sys.stderr)
        report += [f"## {path.name} ({len(questions)} questions)", "", *table(rows), ""]
    report.append(f"generator calls for translation: {translator.calls}")
    text = "\n".join(report)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
