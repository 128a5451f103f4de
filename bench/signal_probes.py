"""Probe the retrieval signals that serve one kind of question each, on questions made at random.

Some signals serve questions the evaluation sets hardly hold: a cited paragraph ("Article 12(3)
GDPR"), a defined term in quotes, a defined term without quotes. Switched off, such a signal can
change nothing on dev or dev2 while a user asking that kind of question loses the answer. This
script makes those questions from passages drawn at random from the index (fixed seed; English
documents; the act named by a name derived from its title), then reports recall@1 and recall@5 of
the product's retrieval with and without each signal. Figures, never pass/fail.

    python bench/signal_probes.py --index /work/idx [--per-kind 60] [--seed 4507]
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

from _common import RESULTS, emit, index_settings, machine

from rag.evaluation import first_rank_retrieved
from rag.query import names_from_title
from rag.retrieval import RetrievalOptions, Retriever
from rag.runtime import Runtime

CITED = (
    "What does Article {article}({paragraph}) of the {act} say?",
    "Article {article}({paragraph}) {act}",
    "{act} Art. {article}({paragraph}): what does it require?",
)
QUOTED = ("What does '{term}' mean under the {act}?",)
UNQUOTED = ("What is meant by {term} in the {act}?", "How does the {act} define {term}?")
_PARAGRAPH = re.compile(r"Article (\d+)\((\d+)\)")
_DEFINES = re.compile(r"‘([^’]{3,50})’ means")
VARIANTS = {
    "product": {},
    "without references": {"weight_reference": 0.0},
    "without definitions (quoted)": {"weight_definition": 0.0},
    "without defined terms (unquoted)": {"weight_defined_term": 0.0},
}


def act_names(generation) -> dict[str, list[str]]:
    """Per English document, the names its title gives (short names and acronyms, no numbers)."""
    names: dict[str, list[str]] = {}
    for doc in generation.documents().values():
        if doc.lang == "en":
            long_names, acronyms = names_from_title(doc.title)
            names[doc.id] = sorted(n for n in long_names | acronyms if not n[0].isdigit())
    return names


def probes(generation, per_kind: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """Per kind of question, (question, evidence) pairs; the evidence is the passage it asks for."""
    rng = random.Random(seed)
    names = act_names(generation)
    cited, defined = [], []
    for stored in generation.stored_chunks():
        chunk = stored.chunk
        if chunk.doc not in names or not names[chunk.doc]:
            continue
        if match := _PARAGRAPH.fullmatch(chunk.locator):
            cited.append((chunk, match.group(1), match.group(2)))
        for match in _DEFINES.finditer(chunk.text):
            defined.append((chunk, match.group(1), chunk.text[match.start() :][:200]))
    sets: dict[str, list[tuple[str, str]]] = {
        "cited paragraph": [],
        "quoted term": [],
        "unquoted term": [],
    }
    for i, (chunk, article, paragraph) in enumerate(rng.sample(cited, min(per_kind, len(cited)))):
        act = rng.choice(names[chunk.doc])
        question = CITED[i % len(CITED)].format(article=article, paragraph=paragraph, act=act)
        sets["cited paragraph"].append((question, chunk.text[:250]))
    for i, (chunk, term, evidence) in enumerate(rng.sample(defined, min(per_kind, len(defined)))):
        act = rng.choice(names[chunk.doc])
        sets["quoted term"].append((QUOTED[0].format(term=term, act=act), evidence))
        form = UNQUOTED[i % len(UNQUOTED)]
        sets["unquoted term"].append((form.format(term=term, act=act), evidence))
    return sets


def measure(retriever: Retriever, questions: list[tuple[str, str]]) -> dict[str, float]:
    ranks = []
    for question, evidence in questions:
        hits = retriever.search(question, k=5, translate=False)
        ranks.append(first_rank_retrieved([evidence], [h.chunk.text for h in hits]))
    n = max(1, len(ranks))
    return {
        "recall@1": round(sum(r == 1 for r in ranks) / n, 3),
        "recall@5": round(sum(r is not None for r in ranks) / n, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--per-kind", type=int, default=60)
    ap.add_argument("--seed", type=int, default=4507)
    ap.add_argument("--out", type=Path, default=RESULTS / "signal_probes.md")
    args = ap.parse_args()
    runtime = Runtime(index_settings(args.index))
    generation = runtime.generation()
    sets = probes(generation, args.per_kind, args.seed)
    rows = {}
    for name, overrides in VARIANTS.items():
        options = RetrievalOptions(translate=False, **overrides)
        retriever = Retriever(generation, runtime.embedder, options=options)
        rows[name] = {kind: measure(retriever, qs) for kind, qs in sets.items()}
    header = "| system | " + " | ".join(f"{k}: r@1 | r@5" for k in sets) + " |"
    lines = [
        f"Probe questions made at random from {args.index} (seed {args.seed}; "
        + ", ".join(f"{k}: {len(v)}" for k, v in sets.items())
        + "), product retrieval without translation.",
        "",
        "    python bench/signal_probes.py --index <index>",
        "",
        header,
        "|---|" + "---|---|" * len(sets),
    ]
    for name, cells in rows.items():
        values = " | ".join(f"{c['recall@1']:.2f} | {c['recall@5']:.2f}" for c in cells.values())
        lines.append(f"| {name} | {values} |")
    lines += ["", "Examples:"] + [f"- {kind}: {qs[0][0]}" for kind, qs in sets.items() if qs]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    emit(
        "signal_probes",
        {"machine": machine(), "sizes": {k: len(v) for k, v in sets.items()}, "rows": rows},
        text,
    )


if __name__ == "__main__":
    main()
