"""Do the passages holding the dev set's evidence carry the locator the question cites?

For every dev question with evidence, the corpus file is chunked (no embeddings needed), the
passage(s) containing each evidence string (whitespace-normalised) are found, and their locator
is compared with the question's `source_locator` by unit kind and number: article, recital or
annex (Danish `Artikel` and Polish `Artykuł` count as Article). Prints the hit rate and the misses.

    python bench/check_locators.py [--dev ../shared/eval/dev.jsonl] [--corpus corpus]
    python bench/check_locators.py --formats ../shared/real-formats   # the same acts as XHTML/PDF
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.chunking import Chunk, chunk_document
from rag.documents import load_document

_UNIT_PATTERNS = [
    (
        "article",
        re.compile(
            r"\b(?:Article|Artikel|Artykuł|Articolo|Artículo|Artigo|Artikla|Článek)"
            r"\s+(\d+[a-z]?)",
            re.IGNORECASE,
        ),
    ),
    (
        "recital",
        re.compile(
            r"\b(?:Recital|Betragtning|Motyw|Erwägungsgrund|Considérant|Overweging|"
            r"Skäl)\s+(\d+)",
            re.IGNORECASE,
        ),
    ),
    (
        "annex",
        re.compile(
            r"\b(?:Annex|Annexe|Anhang|Bilag|Bilaga|Załącznik|Bijlage|Allegato|Anexo)"
            r"\b(?:\s+([IVXLC]+|\d+)\b)?",
            re.IGNORECASE,
        ),
    ),
]
_ANNEX_PART = re.compile(
    r",\s*(Section|Part|Chapter|Sekcja|Część|Afsnit|Del|Kapitel|Abschnitt|"
    r"Teil|Partie|Titel)\s+(\w+)",
    re.IGNORECASE,
)


def unit_of(locator: str) -> tuple[str, str] | None:
    """('article', '99') for 'Article 99(3), p. 4', ('annex', 'XI, Section 1') for 'Annex XI,
    Section 1, point 1', ('annex', '') for 'Annex, point 20' (an act's only, unnumbered annex);
    None when the locator names no legal unit ('Preamble', 'Notes', 'Opening text')."""
    for kind, pattern in _UNIT_PATTERNS:
        match = pattern.search(locator)
        if match:
            number = (match.group(1) or "").upper() if kind == "annex" else match.group(1)
            part = _ANNEX_PART.search(locator, match.end()) if kind == "annex" else None
            if part:
                number = f"{number}, {part.group(1).capitalize()} {part.group(2).upper()}"
            return kind, number.lstrip(", ")
    return None


def normalise(text: str) -> str:
    return " ".join(text.split())


@cache
def chunks_of(corpus: Path, name: str) -> tuple[Chunk, ...]:
    doc = load_document(corpus / name, name, 10**9)
    return tuple(chunk_document(doc))


def passages_with(chunks: tuple[Chunk, ...], evidence: str) -> tuple[list[Chunk], bool]:
    """Passages containing the evidence, and whether one holds all of it (else where it starts)."""
    needle = normalise(evidence)
    found = [c for c in chunks if needle in normalise(c.text)]
    if found:
        return found, True
    words = needle.split()
    for n in (24, 12, 8):
        head = " ".join(words[:n])
        found = [c for c in chunks if head in normalise(c.text)]
        if found:
            return found, False
    return [], False


def cases(dev_path: Path):
    """(question id, file, expected locator, evidence) for every evidence string of the dev set."""
    for line in dev_path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        evidence = row.get("evidence") or []
        files = row.get("source_file")
        locators = row.get("source_locator")
        if not evidence or not files or not locators:
            continue
        files = files if isinstance(files, list) else [files]
        locators = locators if isinstance(locators, list) else [locators]
        for i, ev in enumerate(evidence):
            j = i if len(files) == len(evidence) else 0
            yield row["id"], files[min(j, len(files) - 1)], locators[min(j, len(locators) - 1)], ev


_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\xa0": " ", "\u2009": " "})
_PAGES = re.compile(r",\s*pp?\.\s*[\d–-]+$")


def comparable(text: str) -> str:
    """Text as two renditions of one act share it: spacing, quote styles and soft hyphens evened."""
    return normalise(text.translate(_QUOTES).replace("\xad", ""))


def without_pages(locator: str) -> str:
    return _PAGES.sub("", locator)


def rendition_of(name: str, folder: Path) -> Path | None:
    """The file in `folder` holding the same act as corpus file `name` in another format:
    `gdpr-2016-679.md` ↔ `gdpr-2016-679.eurlex.html` or `gdpr-2016-679.pdf`."""
    stem = Path(name).stem
    found = sorted(
        p
        for p in folder.iterdir()
        if p.name != name and (p.stem == stem or p.name.startswith(f"{stem}."))
    )
    return found[0] if found else None


def compare_formats(dev: Path, corpus: Path, folder: Path) -> tuple[int, int, int, int]:
    """For each evidence string of an act that `folder` holds in another format: is it found
    there, under the expected unit, and under the same locator (pages aside) as in Markdown?"""
    total = found_n = unit_n = same_n = 0
    misses: list[str] = []
    for qid, name, expected, evidence in cases(dev):
        other = rendition_of(name, folder)
        if other is None:
            continue
        total += 1
        md, _ = passages_with(chunks_of(corpus, name), evidence)
        theirs = chunks_of(folder, other.name)
        needle = comparable(evidence)
        hit = [c for c in theirs if needle in comparable(c.text)]
        if not hit:
            words = needle.split()
            hit = next(
                (
                    [c for c in theirs if " ".join(words[:n]) in comparable(c.text)]
                    for n in (24, 12, 8)
                    if any(" ".join(words[:n]) in comparable(c.text) for c in theirs)
                ),
                [],
            )
        if not hit:
            misses.append(f"  {qid} {other.name}: evidence not found — {needle[:60]!r}")
            continue
        found_n += 1
        got = [without_pages(c.locator) for c in hit]
        if any(unit_of(loc) == unit_of(expected) for loc in got):
            unit_n += 1
        if {without_pages(c.locator) for c in md} & set(got):
            same_n += 1
        else:
            misses.append(
                f"  {qid} {other.name}: Markdown {', '.join(c.locator for c in md)}; "
                f"{other.suffix[1:]} {', '.join(c.locator for c in hit)}"
            )

    def pct(n: int) -> float:
        return 100.0 * n / total if total else 0.0

    print(
        f"format check ({folder}): {total} evidence strings of acts held there; found "
        f"{found_n} ({pct(found_n):.1f} %), expected unit {unit_n} ({pct(unit_n):.1f} %), same "
        f"locator as Markdown (pages aside) {same_n} ({pct(same_n):.1f} %)"
    )
    if misses:
        print(f"differences ({len(misses)}):")
        print("\n".join(misses))
    return total, found_n, unit_n, same_n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "eval" / "dev.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument(
        "--formats",
        type=Path,
        default=None,
        help="a folder holding corpus acts in other formats (EUR-Lex XHTML, PDF; "
        "same name stem): compare their passages' locators with Markdown's",
    )
    args = parser.parse_args(argv)
    if args.formats is not None:
        if not args.formats.is_dir():
            print(f"error: no such folder: {args.formats}", file=sys.stderr)
            return 2
        total, _, _, same = compare_formats(args.dev, args.corpus, args.formats)
        return 0 if total and same >= 0.95 * total else 1

    total = hits = split = 0
    misses: list[str] = []
    for qid, name, expected, evidence in cases(args.dev):
        total += 1
        want = unit_of(expected)
        found, whole = passages_with(chunks_of(args.corpus, name), evidence)
        split += bool(found) and not whole
        got = [c.locator for c in found]
        if found and want is not None and any(unit_of(loc) == want for loc in got):
            hits += 1
        else:
            reason = "evidence not found in any passage" if not found else f"got {', '.join(got)}"
            misses.append(
                f"  {qid} {name}: expected {expected}; {reason} — {normalise(evidence)[:70]!r}"
            )
    rate = 100.0 * hits / total if total else 0.0
    print(
        f"locator check: {hits}/{total} evidence strings in a passage with the expected "
        f"article/recital/annex ({rate:.1f} %); {split} spread over several passages"
    )
    if misses:
        print(f"misses ({len(misses)}):")
        print("\n".join(misses))
    return 0 if rate >= 95.0 else 1


if __name__ == "__main__":
    sys.exit(main())
