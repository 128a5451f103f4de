"""The same acts indexed from different formats: titles and retrieval recall side by side.

Each `--index` is an index built over one rendition of the same acts (the Markdown corpus files,
their EUR-Lex XHTML originals, PDFs printed from those). Questions of the dev sets whose source
files are among those acts are searched with the product's retriever, as `sovrag search` does;
a document of another format counts for the corpus file whose name stem it starts with
(`gdpr-2016-679.eurlex.html` for `gdpr-2016-679.md`). Figures, never pass/fail.

    python bench/format_recall.py --index /work/tmp-docs/idx-md --index /work/tmp-docs/idx-xhtml \\
        --questions ../shared/eval/dev.jsonl --questions ../shared/eval/dev2.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import load_settings
from rag.evaluation import first_rank_retrieved, load_questions, source_files
from rag.runtime import Runtime


def _stem(name: str) -> str:
    return Path(name).name.split(".")[0]


def measure(index: Path, question_sets: list[Path], k: int, translate: bool) -> dict:
    runtime = Runtime(load_settings(index_dir=index, translate_queries=translate))
    generation = runtime.generation()
    docs = generation.documents()
    held = {_stem(d) for d in docs}
    retriever = runtime.retriever()
    out: dict = {"titles": {d.id: d.title for d in docs.values()}, "sets": {}}
    for path in question_sets:
        questions = [
            q
            for q in load_questions(path)
            if q.get("evidence")
            and source_files(q)
            and all(_stem(f) in held for f in source_files(q))
        ]
        firsts = []
        for q in questions:
            hits = retriever.search(q["question"], k=k)
            firsts.append(first_rank_retrieved(q["evidence"], [h.chunk.text for h in hits]))
        n = max(1, len(questions))
        out["sets"][path.name] = {
            "questions": len(questions),
            "recall@1": sum(1 for f in firsts if f is not None and f <= 1) / n,
            "recall@5": sum(1 for f in firsts if f is not None and f <= 5) / n,
            "mrr": sum(1 / f for f in firsts if f) / n,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, action="append", required=True)
    parser.add_argument("--questions", type=Path, action="append", required=True)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument(
        "--translate",
        action="store_true",
        help="translate queries with the generator, as the product does (loads it)",
    )
    args = parser.parse_args()
    results = {
        index: measure(index, args.questions, args.k, args.translate) for index in args.index
    }
    for index, result in results.items():
        print(f"\n{index}")
        for doc, title in sorted(result["titles"].items()):
            print(f"  {doc:<42} {title}")
    print("\n| index | set | questions | recall@5 | recall@1 | MRR |")
    print("|---|---|---|---|---|---|")
    for index, result in results.items():
        for name, r in result["sets"].items():
            print(
                f"| {index.name} | {name} | {r['questions']} | {r['recall@5']:.3f} | "
                f"{r['recall@1']:.3f} | {r['mrr']:.3f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
