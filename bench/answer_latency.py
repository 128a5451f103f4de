"""Time to first token and total answer time of `Assistant.stream`, next to raw llama-cpp-python
generating from the very same messages in the same process (the ceiling).

    python bench/answer_latency.py                       # 20 dev questions, default model
    python bench/answer_latency.py --questions 5 --generator smollm2-135m

The 20 questions are spread evenly over the dev set (every ~6th: several acts and languages).
For each: the product answers (retrieval, prompt, generation, citation checks, as `sovrag ask`),
the messages it sent to the model are captured, then `Llama.create_chat_completion` runs on them
with the same sampling settings. The KV cache is cleared before both, so neither reuses the other's
prompt and the ratio shows the product's own overhead. Also reported: prompt tokens and how they
split between passages and instructions, output tokens/s, and answer accuracy on these questions
(the dev set's `must_contain` rule) so that a context change can be checked against it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEV_QUESTIONS, ROOT, emit, load_average, machine, percentile, table

from rag.assistant import Answer, Assistant, Delta
from rag.config import load_settings
from rag.evaluation import answer_correct, load_questions
from rag.generator import GenerationParams
from rag.prompts import SYSTEM, format_sources
from rag.runtime import Runtime


def spread(questions: list[dict], n: int) -> list[dict]:
    """n questions at even steps through the file: a fixed, varied subset."""
    if n >= len(questions):
        return questions
    return [questions[round(i * len(questions) / n)] for i in range(n)]


class Recorder:
    """Wraps the generator: keeps the messages of the last answer generation and its output pieces'
    count (other calls — query or check translations — pass through unrecorded)."""

    def __init__(self, generator) -> None:
        self.inner = generator
        self.messages: list[dict] = []
        self.pieces = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def stream_chat(self, messages, params):
        answering = bool(messages) and messages[0].get("content") == SYSTEM
        if answering:
            self.messages, self.pieces = messages, 0
        for piece in self.inner.stream_chat(messages, params):
            if answering:
                self.pieces += 1
            yield piece


def raw_run(
    llm, messages: list[dict], params: GenerationParams, first_token_only: bool = False
) -> dict:
    """The ceiling: llama-cpp-python on the same messages, nothing else (with `first_token_only`,
    it stops at the first token: the time-to-first-token ceiling without the decode time)."""
    llm.reset()  # no prompt prefix left from the product's run of the same messages
    llm.set_seed(params.seed)
    started = time.perf_counter()
    ttft = None
    prompt_tokens = 0
    tokens = 0
    max_tokens = 1 if first_token_only else params.max_tokens
    for part in llm.create_chat_completion(
        messages=messages,
        max_tokens=max_tokens,
        temperature=params.temperature,
        top_p=1.0,
        top_k=1,
        seed=params.seed,
        stream=True,
    ):
        if part["choices"][0].get("delta", {}).get("content"):
            if ttft is None:
                ttft = time.perf_counter() - started
                prompt_tokens = llm.n_tokens  # the prompt is evaluated, the first token not yet
            tokens += 1
    total = time.perf_counter() - started
    return {
        "ttft_s": ttft or total,
        "total_s": None if first_token_only else total,
        "tokens": tokens,
        "prompt_tokens": prompt_tokens,
        "decode_tok_s": (tokens - 1) / (total - ttft) if ttft and tokens > 1 else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index", help="read only")
    parser.add_argument("--questions-file", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--generator", default=None, help="model id or GGUF (default: configured)")
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help="cap answers (both runs) to bound the run time; TTFT is unaffected",
    )
    parser.add_argument(
        "--raw-first-token-only",
        action="store_true",
        help="the raw run stops at its first token: TTFT ceiling only, no raw total "
        "(decode speed then comes from the product's own run); saves the raw decoding time",
    )
    parser.add_argument(
        "--answer-mode",
        choices=["draft", "evidence"],
        default=None,
        help="how answers are made (default: configured); evidence prompts hold "
        "sentences, not passages, so no passage/instruction split is shown",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    info = machine()
    settings = load_settings(
        index_dir=args.index,
        generator=args.generator,
        max_tokens=args.max_tokens,
        answer_mode=args.answer_mode,
    )
    runtime = Runtime(settings)
    questions = spread(load_questions(args.questions_file), args.questions)
    recorder = Recorder(runtime.generator)
    runtime._generator = recorder  # the assistant reaches the model through the runtime
    assistant = Assistant(runtime)
    started = time.perf_counter()
    llm = recorder.inner.load()
    load_s = time.perf_counter() - started
    runtime.retriever().search("warm-up", k=1)  # embedder and per-generation tables
    params = GenerationParams(
        max_tokens=settings.max_tokens, temperature=settings.temperature, seed=settings.seed
    )

    rows, per_question = [], []
    for q in questions:
        llm.reset()
        started = time.perf_counter()
        ttft = None
        final: Answer | None = None
        recorder.messages = []
        for event in assistant.stream(q["question"], log=False):
            if isinstance(event, Delta) and ttft is None:
                ttft = time.perf_counter() - started
            elif isinstance(event, Answer):
                final = event
        total = time.perf_counter() - started
        assert final is not None
        record = {
            "id": q["id"],
            "lang": q.get("lang"),
            "abstained": final.abstained,
            "product_ttft_s": round(ttft or total, 3),
            "product_total_s": round(total, 3),
            "product_first_model_token_s": round(final.timings.get("first_token", 0.0), 3),
            "retrieval_s": round(final.timings.get("retrieval", 0.0), 3),
            "rewrite_s": round(final.timings.get("rewrite", 0.0), 3),
            "output_tokens": recorder.pieces,
            "correct": bool(q.get("must_contain"))
            and not final.abstained
            and answer_correct(final.text, q["must_contain"]),
        }
        if recorder.messages:
            raw = raw_run(llm, recorder.messages, params, args.raw_first_token_only)
            if raw["decode_tok_s"] is None:  # measure decoding on the product's run instead
                first, generated_s = (
                    final.timings.get("first_token"),
                    final.timings.get("generation"),
                )
                if first and generated_s and recorder.pieces > 1 and generated_s > first:
                    raw["decode_tok_s"] = (recorder.pieces - 1) / (generated_s - first)
            user = recorder.messages[-1]["content"]
            sources = format_sources(final.passages) if settings.answer_mode == "draft" else ""
            record.update(
                {
                    "raw_ttft_s": round(raw["ttft_s"], 3),
                    "raw_total_s": raw["total_s"] and round(raw["total_s"], 3),
                    "raw_tokens": raw["tokens"],
                    "raw_decode_tok_s": raw["decode_tok_s"] and round(raw["decode_tok_s"], 2),
                    "prompt_tokens": raw["prompt_tokens"],
                    "passage_tokens": recorder.count_tokens(sources) if sources else None,
                    "instruction_tokens": recorder.count_tokens(user.replace(sources, ""))
                    if sources
                    else None,
                    "ttft_ratio": round((ttft or total) / raw["ttft_s"], 3),
                    "prompt_eval_tok_s": round(raw["prompt_tokens"] / raw["ttft_s"], 1),
                }
            )
        per_question.append(record)
        print(f"{q['id']}: {record}", file=sys.stderr, flush=True)
        rows.append(
            [
                q["id"],
                record.get("prompt_tokens", "-"),
                record["product_ttft_s"],
                record.get("raw_ttft_s", "-"),
                record.get("ttft_ratio", "-"),
                record["product_total_s"],
                record.get("raw_total_s") or "-",
                record["output_tokens"],
                record["correct"],
            ]
        )

    generated = [r for r in per_question if "raw_ttft_s" in r]

    def mean(key: str) -> float | None:
        values = [r[key] for r in generated if r.get(key) is not None]
        return round(statistics.fmean(values), 3) if values else None

    summary = {
        "questions": len(per_question),
        "generated": len(generated),
        "model": recorder.name,
        "model_load_s": round(load_s, 1),
        "answer_mode": settings.answer_mode,
        "product_ttft_mean_s": mean("product_ttft_s"),
        "raw_ttft_mean_s": mean("raw_ttft_s"),
        "ttft_ratio_of_means": round(mean("product_ttft_s") / mean("raw_ttft_s"), 3)
        if generated
        else None,
        "ttft_ratio_median": round(statistics.median(r["ttft_ratio"] for r in generated), 3)
        if generated
        else None,
        "product_ttft_p95_s": round(percentile([r["product_ttft_s"] for r in generated], 0.95), 3)
        if generated
        else None,
        "product_total_mean_s": mean("product_total_s"),
        "raw_total_mean_s": mean("raw_total_s"),
        "prompt_tokens_mean": mean("prompt_tokens"),
        "passage_tokens_mean": mean("passage_tokens"),
        "instruction_tokens_mean": mean("instruction_tokens"),
        "prompt_eval_tok_s_mean": mean("prompt_eval_tok_s"),
        "decode_tok_s_mean": mean("raw_decode_tok_s"),
        "retrieval_mean_s": mean("retrieval_s"),
        "accuracy": round(sum(r["correct"] for r in per_question) / len(per_question), 3),
        "abstained": sum(r["abstained"] for r in per_question),
    }
    rows.append(
        [
            "mean",
            summary["prompt_tokens_mean"],
            summary["product_ttft_mean_s"],
            summary["raw_ttft_mean_s"],
            summary["ttft_ratio_of_means"],
            summary["product_total_mean_s"],
            summary["raw_total_mean_s"],
            "",
            summary["accuracy"],
        ]
    )
    readable = table(
        rows,
        [
            "question",
            "prompt tok",
            "TTFT s",
            "raw TTFT s",
            "ratio",
            "total s",
            "raw total s",
            "out tok",
            "correct",
        ],
    ) + (
        f"\nmodel {summary['model']}; prompt eval {summary['prompt_eval_tok_s_mean']} tok/s, "
        f"decode {summary['decode_tok_s_mean']} tok/s; prompt = {summary['passage_tokens_mean']} passage + "
        f"{summary['instruction_tokens_mean']} instruction tokens (+ chat template); "
        f"load {info['load_start']} -> {load_average()}"
    )
    emit(
        "answer_latency",
        {"machine": info, "summary": summary, "questions": per_question},
        readable,
        args.out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
