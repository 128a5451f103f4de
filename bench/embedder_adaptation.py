"""Adapt the embedder to the indexed acts with questions the local generator writes; measure it.

Three steps, each cached in --work so a later run picks up where the last one stopped:

- questions: the default generator writes one question, in plain words, for each of --passages
  passages drawn at random (fixed seed) from the index's English documents, leaving out the acts
  named by --hold-out, so that recall on questions about those acts shows what carries over to acts
  the model was never adapted on;
- train: the index's embedder is fine-tuned on the (question, passage) pairs by
  `rag.embedder_adaptation.fine_tune`, the function that makes the product's derived embedder;
- compare: the index's passages and sentence units are embedded with the adapted model and the
  product's retrieval (every signal; with --translate, questions translated as the product does)
  runs with them; recall per question set, for questions on acts used in training and on
  held-out acts apart.

    python bench/embedder_adaptation.py --index /work/idx --work /tmp/adapt \\
        --generated rag/data/embedder_questions.jsonl --passages 1100 \\
        --hold-out dora- --hold-out cybersecurity-act- --hold-out european-chips-act- \\
        --hold-out interoperable-europe-act- \\
        --questions ../shared/eval/dev.jsonl --questions ../shared/eval/dev2.jsonl

Run it on an index built with the base embedder (`--embedder all-minilm-l6-v2`). The product's
default embedder, `minilm-l6-sovrag-1`, is MiniLM fine-tuned on the questions this script wrote
(`rag/data/embedder_questions.jsonl`, with --passages 1100 and the four hold-outs above).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import index_settings  # noqa: E402
from embedder_compare import (  # noqa: E402
    dense_firsts,
    doc_titles,
    product_firsts,
    recall_at,
    swapped_table,
)

from rag.embedder import Embedder  # noqa: E402
from rag.embedder_adaptation import SEED, fine_tune, training_pairs  # noqa: E402
from rag.evaluation import load_questions  # noqa: E402
from rag.generator import GenerationParams  # noqa: E402
from rag.retrieval import RetrievalOptions, Retriever  # noqa: E402
from rag.runtime import Runtime  # noqa: E402
from rag.store import embed_text  # noqa: E402

MIN_WORDS = 20
PROMPT = (
    "A provision of an EU act:\n<<<\n{title}, {locator}:\n{text}\n>>>\n"
    "Write one question that a policy analyst could ask and that this provision answers. "
    "Use plain everyday words instead of the provision's own wording, and do not mention "
    "article numbers. Reply with the question only."
)


def held_out(doc: str, prefixes: list[str]) -> bool:
    return any(doc.startswith(p) for p in prefixes)


def sample_passages(generation, hold_out: list[str], n: int) -> list:
    """`n` passages of the English documents outside `hold_out`, in a fixed random order."""
    lang = {doc: record.lang for doc, record in generation.documents().items()}
    pool = [
        s
        for s in generation.stored_chunks()
        if lang.get(s.chunk.doc) == "en"
        and not held_out(s.chunk.doc, hold_out)
        and not s.chunk.locator.startswith("Notes")
        and len(s.chunk.text.split()) >= MIN_WORDS
    ]
    random.Random(SEED).shuffle(pool)
    return pool[:n]


def write_questions(runtime, generation, passages, path: Path) -> None:
    """One generated question per passage, appended to `path` (rows already there are skipped)."""
    done = {json.loads(line)["row"] for line in path.open()} if path.exists() else set()
    titles = doc_titles(generation)
    params = GenerationParams(max_tokens=48, temperature=0.0, seed=0)
    with path.open("a", encoding="utf-8") as out:
        for n, stored in enumerate(passages, 1):
            if stored.row in done:
                continue
            words = stored.chunk.text.split()
            text = " ".join(words[:120]) + (" …" if len(words) > 120 else "")
            prompt = PROMPT.format(
                title=titles[stored.chunk.doc], locator=stored.chunk.locator, text=text
            )
            reply = "".join(
                runtime.generator.stream_chat([{"role": "user", "content": prompt}], params)
            ).strip()
            question = reply.splitlines()[0].strip().strip('"') if reply else ""
            row = {"row": stored.row, "doc": stored.chunk.doc, "locator": stored.chunk.locator}
            passage = embed_text(stored.chunk, titles[stored.chunk.doc])
            item = {**row, "question": question, "passage": passage}
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            out.flush()
            print(f"questions: {n}/{len(passages)}", end="\r", flush=True)


def rows_for(name: str, questions: list[dict], firsts: list, hold_out: list[str]) -> str:
    """One table row: recall@1/5/10, and recall@5 on trained and held-out acts apart."""

    def group(q: dict) -> str:
        source = q.get("source_file")
        files = source if isinstance(source, list) else [source]
        return "held out" if all(held_out(f or "", hold_out) for f in files) else "trained"

    split: dict[str, list] = {"trained": [], "held out": []}
    for q, first in zip(questions, firsts):
        split[group(q)].append(first)
    parts = [f"{recall_at(v, 5)} ({len(v)})" for v in split.values()]
    return (
        f"| {name} | {recall_at(firsts, 1)} | {recall_at(firsts, 5)} | {recall_at(firsts, 10)} | "
        + (" | ".join(parts) + " |")
    )


def options_from(pairs: list[str]) -> dict[str, float]:
    """`key=value` retrieval options (numbers), as --option gives them."""
    return {key: float(value) for key, value in (p.split("=", 1) for p in pairs)}


def compare(runtime, generation, model: Path, work: Path, args) -> list[str]:
    adapted = Embedder(model.name, model, runtime.settings.threads)
    options = RetrievalOptions(translate=args.translate, **options_from(args.option))
    translator = runtime.translator if args.translate else None
    own = Retriever(generation, runtime.embedder, translator=translator, options=options)
    other = Retriever(generation, adapted, translator=translator, options=options)
    other._table = swapped_table(generation, adapted, work)
    texts = own.table.texts
    lines = []
    for path in args.questions:
        questions = [q for q in load_questions(path) if q.get("evidence")]
        rows = {
            "base, dense alone": dense_firsts(
                questions, own.table.vectors, runtime.embedder.encode_query, texts
            ),
            "adapted, dense alone": dense_firsts(
                questions, other.table.vectors, adapted.encode_query, texts
            ),
            "base, product": product_firsts(questions, own, args.translate),
            "adapted, product": product_firsts(questions, other, args.translate),
        }
        lines += [
            f"### {path.name} ({len(questions)} answerable)",
            "",
            "| retrieval | r@1 | r@5 | r@10 | r@5 trained acts | r@5 held-out acts |",
            "|---|---|---|---|---|---|",
            *(rows_for(name, questions, f, args.hold_out) for name, f in rows.items()),
            "",
        ]
        print("\n".join(lines[-9:]), flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--passages", type=int, default=600)
    parser.add_argument("--hold-out", action="append", default=[], help="document id prefix")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument(
        "--generated", type=Path, help="generated questions (default: WORK/questions.jsonl)"
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        help="retrieval option for both, e.g. weight_dense=1",
    )
    parser.add_argument(
        "--translate", action="store_true", help="product rows translate questions (generator)"
    )
    parser.add_argument("--questions", type=Path, action="append", default=[])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runtime = Runtime(index_settings(args.index))
    generation = runtime.generation()
    args.work.mkdir(parents=True, exist_ok=True)
    generated = args.generated or args.work / "questions.jsonl"
    write_questions(
        runtime, generation, sample_passages(generation, args.hold_out, args.passages), generated
    )
    pairs = training_pairs(generated)
    model = args.work / f"model-{len(pairs)}-e{args.epochs}"
    if not model.exists():
        fine_tune(runtime.embedder.path, pairs, model, args.epochs, args.lr)
    vectors = args.work / f"{model.name}-vectors"
    vectors.mkdir(exist_ok=True)
    lines = [
        f"Index {args.index} ({generation.size} passages); {len(pairs)} training pairs from "
        f"{args.passages} generated questions; held out: {', '.join(args.hold_out) or 'none'}; "
        f"{args.epochs} epoch(s), lr {args.lr}; retrieval options: {', '.join(args.option) or 'default'}; "
        "recall on answerable questions, "
        + ("product rows with query translation." if args.translate else "no translation."),
        "",
        *compare(runtime, generation, model, vectors, args),
    ]
    if args.out:
        args.out.write_text("\n".join(lines), "utf-8")


if __name__ == "__main__":
    main()
