#!/usr/bin/env python3
"""Enumerate every recital, article paragraph and annex point of the English corpus files and
sample candidates uniformly at random (fixed seed). Light: reads Markdown text files only.

Units:
  * recital      - a paragraph "(N) ..." before the first article heading      -> "Recital N"
  * article para - a numbered paragraph "N. ..." of an article (with its points and
                   subparagraphs); an article without numbered paragraphs is one unit
                   -> "Article N(M)" / "Article N"; in a Definitions article each
                   definition point "- (N) ..." is one unit -> "Article N, point (N)"
  * annex point  - a top-level list item or paragraph inside an "## ANNEX" section
                   -> "Annex X, point N" (or "Annex X" / "Annex X, Part Y" when unnumbered)
The "## Notes" (footnotes) sections are not sampled.

    python3 sample.py [K]     prints the first K sampled units (default 90)
"""

import glob
import os
import random
import re
import sys

CORPUS = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "corpus")
ART = re.compile(r"^#{3,5} Article (\d+[a-z]?)\s*(?:—\s*(.*))?$")
NUMPARA = re.compile(r"^(\d+)\.\s")
DEFPOINT = re.compile(r"^- \((\d+)\)\s")
RECITAL = re.compile(r"^\((\d+)\)\s")
ANNEX = re.compile(r"^## ANNEX\s*([IVXLC]*)")
ITEMNUM = re.compile(r"^(?:- )?(?:(\d+)\.|\((\d+|[a-z])\)|([a-z])\))\s")


def units_of(path):
    name = os.path.basename(path)
    lines = open(path, encoding="utf-8").read().splitlines()
    out = []
    mode = "pre"  # pre | article | annex | other
    art = None  # (number, title)
    cur = None  # current unit [locator, text lines]
    annex = part = None

    def flush():
        nonlocal cur
        if cur and "\n".join(cur[1]).strip():
            out.append((name, cur[0], "\n".join(cur[1]).strip()))
        cur = None

    for line in lines:
        m_art = ART.match(line)
        if line.startswith("#"):
            flush()
            if m_art:
                mode, art = "article", (m_art.group(1), m_art.group(2) or "")
                cur = [f"Article {art[0]}", []]
                continue
            m_an = ANNEX.match(line)
            if m_an:
                mode, annex, part = "annex", (m_an.group(1) or "").strip(), None
                continue
            if mode == "annex" and line.startswith("###"):
                part = line.lstrip("#").strip()
                continue
            if (
                mode == "pre"
                and not line.startswith("## CHAPTER")
                and not line.startswith("## TITLE")
            ):
                continue  # headings inside the preamble
            if line.startswith("## "):
                mode = (
                    "other"
                    if line.startswith("## Notes")
                    else ("article" if mode != "pre" else "article")
                )
            continue
        if mode == "pre":
            m = RECITAL.match(line)
            if m:
                out.append((name, f"Recital {m.group(1)}", line.strip()))
            continue
        if mode == "article" and art:
            is_def = "definition" in art[1].lower()
            m_num = NUMPARA.match(line)
            m_def = DEFPOINT.match(line) if is_def else None
            if m_num:
                flush()
                cur = [f"Article {art[0]}({m_num.group(1)})", [line]]
            elif m_def:
                flush()
                cur = [f"Article {art[0]}, point ({m_def.group(1)})", [line]]
            else:
                if cur is None:
                    cur = [f"Article {art[0]}", []]
                cur[1].append(line)
            continue
        if mode == "annex":
            if not line.strip():
                continue
            if line.startswith((" ", "\t")) and cur:  # continuation / sub-point
                cur[1].append(line)
                continue
            flush()
            label = "Annex" + (f" {annex}" if annex else "")
            m = ITEMNUM.match(line)
            if m:
                num = m.group(1) or m.group(2) or m.group(3)
                loc = f"{label}, point {num}" if m.group(1) else f"{label}, point ({num})"
            else:
                loc = label
            if part:
                loc = f"{loc} [{part}]"
            cur = [loc, [line]]
    flush()
    return out


def main():
    k = int(sys.argv[1]) if len(sys.argv) > 1 else 90
    files = sorted(
        f
        for f in glob.glob(os.path.join(CORPUS, "*.md"))
        if not re.search(r"-(da|pl)\.md$", f) and not f.endswith("SOURCES.md")
    )
    units = [u for f in files for u in units_of(f)]
    print(f"# {len(units)} units in {len(files)} English files")
    for f in files:
        n = os.path.basename(f)
        print(f"#   {n}: {sum(1 for u in units if u[0] == n)}")
    random.seed(20261205)
    order = random.sample(range(len(units)), len(units))  # uniform random permutation
    for rank, idx in enumerate(order[:k], start=1):
        name, loc, text = units[idx]
        print(f"\n=== #{rank} [{idx}] {name} | {loc}\n{text[:900]}")


if __name__ == "__main__":
    main()
