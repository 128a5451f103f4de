"""Hostile input for ingestion: files that are broken, malicious or merely odd, by kind.

Public bodies index whatever lands in a shared folder, so ingestion must survive anything: each
file here must end up either indexed or skipped with a one-line reason, quickly and in bounded
memory. `generate(dest, per_kind)` writes `per_kind` variants of every kind (the CI tests use a
few, `bench/` and `python tests/hostile_files.py generate DIR` the full few hundred);
`python tests/hostile_files.py probe DIR` loads and chunks each file in one process and prints a
JSON line per file (outcome, reason, peak RSS), so a caller can bound time per file from outside.
"""

from __future__ import annotations

import io
import json
import random
import struct
import sys
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

HUGE_BYTES = 200 * 1024 * 1024
"""The oversized file: sparse on disk, so making it costs nothing; it must be refused unread."""

SAMPLE = (
    "Article 1\nSubject matter\n\n1. This Regulation lays down rules on the processing of data by "
    "public bodies and on the obligations of providers of digital services.\n\n"
    "2. Member States shall ensure that the competent authorities have adequate resources.\n"
)


@dataclass
class Hostile:
    """One generated file: its name on disk, the name a client would send on upload (it may
    contain path separators that no file name on disk can), its kind, and whether it must be
    skipped (True) or may legitimately be indexed (False)."""

    name: str
    kind: str
    must_skip: bool
    upload_name: str


# --------------------------------------------------------------------------- building blocks


def _pdf_bytes(text: str = SAMPLE, password: str | None = None) -> bytes:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    encrypt = pdfencrypt.StandardEncryption(password, canModify=0) if password else None
    c = canvas.Canvas(out, encrypt=encrypt)
    y = 760
    for line in text.splitlines():
        c.drawString(72, y, line[:90])
        y -= 16
    c.showPage()
    c.save()
    return out.getvalue()


def _cyclic_pdf() -> bytes:
    """A hand-written PDF whose page tree contains itself (a loop for naive walkers)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    body = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(body)


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
    '2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/><Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def _package_start(z: zipfile.ZipFile) -> None:
    """The parts that make python-docx go on to read word/document.xml."""
    z.writestr("[Content_Types].xml", _CONTENT_TYPES)
    z.writestr("_rels/.rels", _RELS)


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _bomb_docx(path: Path, expanded: int, lie_about_size: bool = False) -> None:
    """A DOCX whose document.xml inflates to `expanded` bytes of whitespace (~1000:1 compression).

    With `lie_about_size`, the ZIP headers then claim the part is tiny, as a crafted bomb would, so
    a size check that trusts the directory is fooled and the reader must stop at the claim itself.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        _package_start(z)
        with z.open("word/document.xml", "w", force_zip64=expanded > 0x7FFFFFFF) as part:
            part.write(f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode())
            block = b" " * (1 << 20)
            written = 0
            while written < expanded:
                part.write(block)
                written += len(block)
            part.write(b"</w:body></w:document>")
    if lie_about_size:
        raw = bytearray(path.read_bytes())
        name = b"word/document.xml"
        # Central directory entry: uncompressed size at offset 24; local header: at offset 22.
        for signature, size_offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
            start = 0
            while (pos := raw.find(signature, start)) >= 0:
                start = pos + 4
                name_len = struct.unpack_from(
                    "<H", raw, pos + (28 if signature == b"PK\x01\x02" else 26)
                )[0]
                name_at = pos + (46 if signature == b"PK\x01\x02" else 30)
                if bytes(raw[name_at : name_at + name_len]) == name:
                    struct.pack_into("<I", raw, pos + size_offset, 4096)
        path.write_bytes(bytes(raw))


def _laughs_docx(path: Path, depth: int) -> None:
    """Entity expansion ('billion laughs') in document.xml: harmless only if entities stay unresolved."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, depth + 1)
    ]
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{"".join(entities)}]>'
        f'<w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>&lol{depth};</w:t></w:r></w:p>'
        f"</w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        _package_start(z)
        z.writestr("word/document.xml", xml)


def _many_entries_docx(path: Path, entries: int) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        _package_start(z)
        for i in range(entries):
            z.writestr(f"word/media/x{i}.bin", b"")
        z.writestr("word/document.xml", "<not-xml")


def _nested_html(depth: int, tag: str) -> bytes:
    opening = {"div": "<div>", "list": "<ul><li>", "table": "<table><tr><td>", "b": "<b>"}[tag]
    closing = {"div": "</div>", "list": "</li></ul>", "table": "</td></tr></table>", "b": "</b>"}[
        tag
    ]
    return (
        f"<html><head><title>Nested</title></head><body>{opening * depth}"
        f"<p>Article 1 text deep inside.</p>{closing * depth}</body></html>"
    ).encode()


def _sparse(path: Path, size: int, head: bytes = b"") -> None:
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(size)


# --------------------------------------------------------------------------- the kinds


def generate(dest: Path, per_kind: int = 25, seed: int = 9) -> list[Hostile]:
    """Write `per_kind` files of each kind into `dest`; returns what was written, by kind."""
    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    out: list[Hostile] = []

    def add(
        name: str,
        kind: str,
        must_skip: bool,
        data: bytes | None = None,
        upload_name: str | None = None,
    ) -> Path:
        path = dest / name
        if data is not None:
            path.write_bytes(data)
        out.append(Hostile(name, kind, must_skip, upload_name or name))
        return path

    base_pdf = _pdf_bytes()
    for i in range(per_kind):
        cut = max(16, int(len(base_pdf) * (0.05 + 0.9 * rng.random())))
        add(f"truncated-{i}.pdf", "pdf_truncated", True, base_pdf[:cut])

        variant = i % 4
        if variant == 0:
            data = b"%PDF-1.7\n" + rng.randbytes(4096)
        elif variant == 1:  # flipped bytes everywhere after the header
            data = bytearray(base_pdf)
            for _ in range(max(8, len(data) // 20)):
                data[rng.randrange(9, len(data))] = rng.randrange(256)
            data = bytes(data)
        elif variant == 2:
            data = _cyclic_pdf()
        else:  # no cross-reference table and a wrong startxref
            data = base_pdf.split(b"xref")[0] + b"startxref\n999999999\n%%EOF\n"
        # Flipped bytes may leave a readable text layer: such a file may be indexed.
        add(f"corrupt-{i}.pdf", "pdf_corrupt", variant != 1, data)

        add(f"encrypted-{i}.pdf", "pdf_encrypted", True, _pdf_bytes(password=f"pw{i}"))

        bomb = dest / f"bomb-{i}.docx"
        variant = i % 4
        if variant in (0, 1):  # ~400 MB inflated, honestly declared or disguised as 4 kB
            _bomb_docx(bomb, 400 << 20, lie_about_size=variant == 1)
        elif variant == 2:
            _laughs_docx(bomb, depth=9)
        else:
            _many_entries_docx(bomb, entries=5000)
        add(bomb.name, "docx_zipbomb", True)

        text = SAMPLE.encode()
        noisy = bytearray(text)
        for _ in range(5 + i):
            noisy.insert(
                rng.randrange(len(noisy)), rng.choice([0x80, 0xC3, 0xFF, 0xFE, 0xED, 0xC0])
            )
        suffix = (".txt", ".md", ".html")[i % 3]
        payload = (
            bytes(noisy)
            if suffix != ".html"
            else b"<html><body><p>" + bytes(noisy) + b"</p></body></html>"
        )
        add(f"bad-utf8-{i}{suffix}", "invalid_utf8", False, payload)

        encoding = ("utf-16-le", "utf-16-be")[i % 2]
        suffix = (".txt", ".md", ".html")[i % 3]
        body = SAMPLE if suffix != ".html" else f"<html><body><p>{SAMPLE}</p></body></html>"
        add(f"utf16-{i}{suffix}", "utf16_nobom", False, body.encode(encoding))

        suffix = (".txt", ".md", ".html", ".pdf", ".docx", ".htm")[i % 6]
        add(f"empty-{i}{suffix}", "empty", True, b"")

        suffix = (".txt", ".pdf", ".docx", ".md")[i % 4]
        head = {".pdf": b"%PDF-1.7\n", ".docx": b"PK\x03\x04"}.get(suffix, b"Article 1\n")
        huge = add(f"huge-{i}{suffix}", "huge", True)
        _sparse(huge, HUGE_BYTES, head)

        depth = (2_000, 20_000, 200_000)[i % 3]
        tag = ("div", "list", "table", "b")[i % 4]
        add(f"nested-{tag}-{depth}-{i}.html", "nested_html", False, _nested_html(depth, tag))

        variant = i % 3
        if variant == 0:  # NULs everywhere: binary
            data = b"\x00".join(text[j : j + 3] for j in range(0, len(text), 3))
        elif variant == 1:  # a few NULs inside otherwise fine text
            data = text[:40] + b"\x00\x00" + text[40:]
        else:
            data = b"\x00" * 8192
        add(f"nul-{i}{('.txt', '.md', '.html')[i % 3]}", "nul_bytes", variant != 1, data)

        variant = i % 3
        if variant == 0:  # one enormous word
            data = b"A" * (2 << 20)
        elif variant == 1:  # one long line of words, no breaks
            data = (" ".join(f"word{j}" for j in range(3_000)) + " Article 7 text.").encode()
        else:  # a Markdown heading 12 kB long (it would be repeated in every passage's embedding)
            data = b"# " + b"Title " * 2_000 + b"\n\n" + text
        add(f"longline-{i}{('.txt', '.txt', '.md')[variant]}", "long_lines", False, data)

        # Names: path separators (as a client sends them on upload), dots, unicode, control chars.
        variant = i % 6
        doc = SAMPLE.encode()
        if variant == 0:
            add(
                f"up..\\..\\escape-{i}.md",
                "odd_names",
                False,
                doc,
                upload_name=f"../../escape-{i}.md",
            )
        elif variant == 1:
            add(f"etc-passwd-{i}.md", "odd_names", False, doc, upload_name=f"/etc/passwd-{i}.md")
        elif variant == 2:
            add(f"Verordnung-Überwachung-{i}-ｆｕｌｌ.md", "odd_names", False, doc)
        elif variant == 3:
            add(f"line\nbreak-{i}.md", "odd_names", False, doc, upload_name=f"line\nbreak-{i}.md")
        elif variant == 4:
            add(f"rtl-\u202egnp.{i}.md", "odd_names", False, doc)
        else:
            add(
                f"{'long' * 55}-{i}.md",
                "odd_names",
                False,
                doc,
                upload_name=f"..%2F..%2F{'x' * 300}-{i}.md",
            )
    return out


def kinds(files: list[Hostile]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in files:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return counts


# --------------------------------------------------------------------------- probing


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that over
    exec from the parent, so a probe started by a big test process would report the parent's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def probe(folder: Path, max_bytes: int) -> None:
    """Load and chunk every file of `folder` in this process, one JSON line each (flushed), so a
    parent can put a deadline on every single file and read the peak memory after each."""
    from rag.chunking import chunk_document
    from rag.documents import SkipFile, load_document

    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        print(json.dumps({"start": path.name}), flush=True)
        try:
            doc = load_document(path, path.name, max_bytes)
            result = {"outcome": "indexed", "passages": len(chunk_document(doc)), "reason": ""}
        except SkipFile as exc:
            result = {"outcome": "skipped", "passages": 0, "reason": str(exc)}
        peak_mb = _peak_rss_mb()
        print(
            json.dumps({"name": path.name, **result, "peak_rss_mb": round(peak_mb, 1)}), flush=True
        )


if __name__ == "__main__":
    command, folder = sys.argv[1], Path(sys.argv[2])
    if command == "generate":
        made = generate(folder, per_kind=int(sys.argv[3]) if len(sys.argv) > 3 else 25)
        (folder.parent / f"{folder.name}.manifest.json").write_text(
            json.dumps([asdict(f) for f in made], ensure_ascii=False, indent=1), "utf-8"
        )
        print(json.dumps({"files": len(made), "by_kind": kinds(made)}))
    elif command == "probe":
        probe(folder, int(sys.argv[3]) if len(sys.argv) > 3 else 50_000_000)
    else:
        raise SystemExit(f"usage: {sys.argv[0]} generate|probe DIR [N]")
    sys.stdout.flush()
