"""Merge the benchmarks' JSON results into latest.json and one summary table (targets included).

python bench/summarise.py RESULT.json... --out bench/results/latest.json --markdown latest.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table


def rows_for(results: dict) -> list[list]:
    """(figure, value, target, met) rows for the README's table."""
    rows: list[list] = []
    b = results.get("index_build")
    if b:
        rows += [
            [
                f"build, {b['passages']} passages ({b['documents']} docs): sovrag / raw encode",
                f"{b['build_passages_per_s']} / {b['raw_passages_per_s']} passages/s",
                ">= 0.9x",
                f"{b['ratio_build_to_raw']:.2f}x "
                + ("yes" if b["ratio_build_to_raw"] >= 0.9 else "no"),
            ],
            ["build peak RSS", f"{b['peak_rss_mb']} MB", "", ""],
            [
                "incremental update, 1 paragraph changed",
                f"{b['incremental']['seconds']} s ({b['incremental']['embedded']} embedded)",
                "",
                "",
            ],
            ["no-op update", f"{b['noop_update_s']} s", "", ""],
        ]
    r = results.get("retrieval_latency")
    if r:
        d = r["default"]
        rows.append(
            [
                f"retrieval p50 / p95, default index ({d['passages']} passages)",
                f"{d['search']['p50_ms']} / {d['search']['p95_ms']} ms",
                "p95 < 50 ms",
                "yes" if d["search"]["p95_ms"] < 50 else "no",
            ]
        )
        for s in r.get("scales", []):
            for name, e in s["indexes"].items():
                approx = not name.startswith("exact")
                target = (
                    "p95 < 100 ms, recall >= 0.95" if approx and s["passages"] >= 1_000_000 else ""
                )
                met = (
                    ("yes" if e["latency"]["p95_ms"] < 100 and e["recall_at_10"] >= 0.95 else "no")
                    if target
                    else ""
                )
                measured = (
                    f"{e['latency']['p50_ms']} / {e['latency']['p95_ms']} ms, recall@10 "
                    f"{e['recall_at_10']}, {s['mb_per_million'][name]} MB per 1M"
                )
                rows.append(
                    [f"retrieval {s['passages']:,} passages, {name}", measured, target, met]
                )
    a = results.get("answer_latency")
    if a:
        s = a["summary"]
        if s.get("ttft_ratio_of_means") is not None:
            rows += [
                [
                    f"TTFT, {s['generated']} dev questions: sovrag / raw llama (mean)",
                    f"{s['product_ttft_mean_s']} / {s['raw_ttft_mean_s']} s",
                    "<= 1.1x",
                    f"{s['ttft_ratio_of_means']:.2f}x "
                    + ("yes" if s["ttft_ratio_of_means"] <= 1.1 else "no"),
                ],
                [
                    "answer total: sovrag / raw llama (mean)"
                    if s["raw_total_mean_s"] is not None
                    else "answer total: sovrag (mean; raw run stopped at its first token)",
                    f"{s['product_total_mean_s']} / {s['raw_total_mean_s']} s"
                    if s["raw_total_mean_s"] is not None
                    else f"{s['product_total_mean_s']} s",
                    "",
                    "",
                ],
                [
                    "prompt tokens (passages + instructions)",
                    f"{s['prompt_tokens_mean']} ({s['passage_tokens_mean']} + {s['instruction_tokens_mean']})",
                    "",
                    "",
                ],
                [
                    "prompt eval / decode speed",
                    f"{s['prompt_eval_tok_s_mean']} / {s['decode_tok_s_mean']} tok/s",
                    "",
                    "",
                ],
                [f"accuracy on these {s['questions']} questions", s["accuracy"], "", ""],
            ]
    v = results.get("server_memory")
    if v:
        rows += [
            [
                "sovrag serve: /health answers after",
                f"{v['health_s']} s",
                "<= 10 s",
                "yes" if v["health_s"] is not None and v["health_s"] <= 10 else "no",
            ],
            [
                "sovrag serve RSS idle (model loaded) / peak under 4 streamed asks",
                f"{v['idle_rss_mb']} / {v['busy_rss_peak_mb']} MB",
                "",
                "",
            ],
        ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--markdown", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="wall time of the whole run")
    parser.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="NAME=SECONDS",
        help="wall time of one benchmark (repeatable)",
    )
    args = parser.parse_args(argv)
    results = {}
    for path in args.results:
        data = json.loads(path.read_text("utf-8"))
        results[data["benchmark"]] = data
    loads = [
        (r["machine"].get("load_start"), r["machine"].get("load_end")) for r in results.values()
    ]
    stages = {name: float(value) for name, _, value in (item.partition("=") for item in args.stage)}
    merged = {
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run_seconds": args.seconds,
        "stage_seconds": stages,
        "load_averages": loads,
        "results": results,
    }
    args.out.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", "utf-8")
    text = table(rows_for(results), ["figure", "measured", "target", "met"])
    text += f"\n\nload average (start, end) per benchmark: {loads}; whole run {args.seconds} s"
    if stages:
        text += " (" + ", ".join(f"{name} {value:.0f} s" for name, value in stages.items()) + ")"
    if args.markdown:
        args.markdown.write_text(text + "\n", "utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
