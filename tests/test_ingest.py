"""Ingestion: incremental updates by content hash, removal, bad input, embedder mismatch, CLI.

Mechanics are tested with a stub embedder (fast, counts calls); the real pipeline with the
bundled embedder is tested on a handful of articles (`slow`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixtures import acts
from fixtures.stub_embedder import StubEmbedder
from test_loaders import BAD_LIMIT, _bad_files

from rag.chunking import sentence_units
from rag.errors import IndexMismatchError, SovragError
from rag.ingest import run_ingest
from rag.store import IndexStore

GDPR = acts.CORPUS / "gdpr-2016-679.md"
DATA_ACT = acts.CORPUS / "data-act-2023-2854.md"


def _small_corpus(d: Path) -> Path:
    """Three Markdown acts of a few articles each (about 30 passages in all)."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "ai-act.md").write_text(acts.markdown(acts.section("### Article 99 ")), "utf-8")
    (d / "gdpr.md").write_text(
        acts.markdown(
            acts.section("### Article 83 ", source=GDPR), title="General Data Protection Regulation"
        ),
        "utf-8",
    )
    (d / "data-act.md").write_text(
        acts.markdown(acts.section("### Article 50 ", source=DATA_ACT), title="Data Act"), "utf-8"
    )
    return d


def _ingest(index: Path, embedder, paths, full: bool = False, **kw):
    kw.setdefault("max_bytes", 10**8)
    kw.setdefault("say", lambda message: None)
    return run_ingest(
        IndexStore(index),
        embedder,
        [Path(p) for p in paths],
        full_rebuild=full,
        show_progress=False,
        **kw,
    )


def _docs_in_index(index: Path) -> set[str]:
    gen = IndexStore(index).open()
    try:
        return {sc.chunk.doc for sc in gen.stored_chunks()}
    finally:
        gen.close()


def test_update_embeds_only_what_changed(tmp_path):
    corpus = _small_corpus(tmp_path / "corpus")
    index, emb = tmp_path / "index", StubEmbedder()
    first = _ingest(index, emb, [corpus], full=True)
    assert first.embedded == first.passages > 0
    assert first.sentences_embedded >= first.passages  # every passage has one sentence unit or more
    assert emb.calls == first.passages + first.sentences_embedded
    start = emb.calls

    again = _ingest(index, emb, [corpus])
    assert again.embedded == again.sentences_embedded == 0 and emb.calls == start
    assert again.generation == first.generation  # nothing changed: no new generation either
    assert sorted(again.unchanged) == ["ai-act.md", "data-act.md", "gdpr.md"]

    path = corpus / "gdpr.md"
    path.write_text(path.read_text("utf-8").replace("20 000 000 EUR", "25 000 000 EUR"), "utf-8")
    changed = _ingest(index, emb, [corpus])
    assert changed.changed == ["gdpr.md"] and not changed.added
    assert 1 <= changed.embedded <= 3  # only the passages whose text changed
    assert 1 <= changed.sentences_embedded <= 3 * 6  # and only their sentences
    assert emb.calls == start + changed.embedded + changed.sentences_embedded
    assert changed.passages == first.passages
    generation = IndexStore(index).open()
    try:  # reused sentence vectors still belong to their passages
        sentences = generation.sentences
        assert sentences is not None and len(sentences) == first.sentences_embedded
        for stored in generation.stored_chunks({"gdpr.md"}):
            units = sentence_units(stored.chunk)
            assert np.allclose(sentences.of_row(stored.row), emb.encode(units), atol=1e-6)
    finally:
        generation.close()


def test_deleted_file_leaves_no_passage(tmp_path):
    corpus = _small_corpus(tmp_path / "corpus")
    index, emb = tmp_path / "index", StubEmbedder()
    _ingest(index, emb, [corpus], full=True)
    (corpus / "data-act.md").unlink()
    report = _ingest(index, emb, [corpus])
    assert report.removed == ["data-act.md"] and report.embedded == 0
    assert _docs_in_index(index) == {"ai-act.md", "gdpr.md"}


def test_remove_drops_a_document_and_refuses_unknown_ids(tmp_path):
    corpus = _small_corpus(tmp_path / "corpus")
    index, emb = tmp_path / "index", StubEmbedder()
    _ingest(index, emb, [corpus], full=True)
    report = _ingest(index, emb, [], remove_ids=["gdpr.md"])
    assert report.removed == ["gdpr.md"] and report.embedded == 0
    assert _docs_in_index(index) == {"ai-act.md", "data-act.md"}
    with pytest.raises(SovragError, match="No document 'nope.md'"):
        _ingest(index, emb, [], remove_ids=["nope.md"])


def test_bad_inputs_are_skipped_and_the_rest_indexed(tmp_path):
    corpus = _small_corpus(tmp_path / "corpus")
    index, emb = tmp_path / "index", StubEmbedder()
    _ingest(index, emb, [corpus], full=True)
    expected = _bad_files(corpus)
    acts.write_pdf(corpus / "ai-act-excerpt.pdf")
    messages: list[str] = []
    report = _ingest(index, emb, [corpus], max_bytes=BAD_LIMIT, say=messages.append)
    assert dict(report.skipped).keys() == expected.keys()
    for name, reason in report.skipped:
        assert expected[name] in reason
    assert len(messages) == len(expected) and all(m.startswith("skipped ") for m in messages)
    assert report.added == ["ai-act-excerpt.pdf"]
    assert _docs_in_index(index) == {"ai-act.md", "gdpr.md", "data-act.md", "ai-act-excerpt.pdf"}
    assert f"{len(expected)} skipped" in report.summary()


def test_an_index_of_another_embedder_is_refused(tmp_path):
    corpus = _small_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _ingest(index, StubEmbedder("model-a"), [corpus], full=True)
    with pytest.raises(
        IndexMismatchError, match="built with embedder 'model-a'.*sovrag index build"
    ):
        _ingest(index, StubEmbedder("model-b"), [corpus])
    with pytest.raises(IndexMismatchError):
        IndexStore(index).open("model-b")
    rebuilt = _ingest(
        index, StubEmbedder("model-b"), [corpus], full=True
    )  # an explicit rebuild is fine
    assert IndexStore(index).open("model-b").manifest["embedder"] == "model-b" and rebuilt.passages


def test_cli_exit_code_says_whether_anything_was_skipped(tmp_path, monkeypatch, capsys):
    from rag.cli import main
    from rag.runtime import Runtime

    stub = StubEmbedder("stub-embedder")
    monkeypatch.setattr(Runtime, "embedder", property(lambda self: stub))
    corpus = _small_corpus(tmp_path / "corpus")
    flags = ["--index", str(tmp_path / "index"), "--embedder", "stub-embedder"]
    assert main(["index", "build", "--corpus", str(corpus), *flags]) == 0
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    assert main(["index", "update", str(corpus), *flags]) == 1
    out = capsys.readouterr()
    assert "broken.pdf" in out.err and "corrupt PDF" in out.err
    assert "0 added, 0 changed, 0 removed, 3 unchanged, 1 skipped" in out.out
    (corpus / "broken.pdf").unlink()
    assert main(["index", "update", str(corpus), *flags]) == 0
    assert main(["index", "remove", "gdpr.md", *flags]) == 0
    assert main(["index", "remove", "gdpr.md", *flags]) == 2
    assert "No document 'gdpr.md'" in capsys.readouterr().err


@pytest.mark.slow
def test_real_pipeline_incremental_update_delete_and_remove(tmp_path):
    """Bundled embedder: a changed file re-embeds only its changed passages; deleted or removed
    documents are never returned by search again."""
    from rag.config import load_settings
    from rag.retrieval import SearchFilters
    from rag.runtime import Runtime

    corpus = _small_corpus(tmp_path / "corpus")
    rt = Runtime(load_settings(index_dir=tmp_path / "index", corpus_dir=corpus, threads=2))
    first = run_ingest(
        rt.store, rt.embedder, [corpus], max_bytes=10**8, full_rebuild=True, show_progress=False
    )
    assert rt.embedder.calls == first.passages + first.sentences_embedded
    hits = rt.retriever().search("administrative fines for infringements of data protection", k=5)
    assert any(h.chunk.doc == "gdpr.md" for h in hits)

    assert (
        run_ingest(
            rt.store,
            rt.embedder,
            [corpus],
            max_bytes=10**8,
            full_rebuild=False,
            show_progress=False,
        ).embedded
        == 0
    )
    calls = rt.embedder.calls
    path = corpus / "ai-act.md"
    path.write_text(path.read_text("utf-8").replace("EUR 35 000 000", "EUR 40 000 000"), "utf-8")
    changed = run_ingest(
        rt.store, rt.embedder, [corpus], max_bytes=10**8, full_rebuild=False, show_progress=False
    )
    assert changed.changed == ["ai-act.md"] and changed.embedded == 1
    assert rt.embedder.calls - calls == changed.embedded + changed.sentences_embedded
    hits = rt.retriever().search(
        "maximum fine for prohibited AI practices", k=5, filters=SearchFilters(docs=["ai-act.md"])
    )
    assert [h.chunk.locator for h in hits if "EUR 40 000 000" in h.chunk.text] == ["Article 99(3)"]
    assert not any("EUR 35 000 000" in h.chunk.text for h in hits)

    (corpus / "gdpr.md").unlink()
    run_ingest(
        rt.store, rt.embedder, [corpus], max_bytes=10**8, full_rebuild=False, show_progress=False
    )
    hits = rt.retriever().search("administrative fines for infringements of data protection", k=50)
    assert hits and all(h.chunk.doc != "gdpr.md" for h in hits)

    run_ingest(
        rt.store,
        rt.embedder,
        [],
        max_bytes=10**8,
        full_rebuild=False,
        remove_ids=["data-act.md"],
        show_progress=False,
    )
    hits = rt.retriever().search("Data Act entry into force and application", k=50)
    assert hits and all(h.chunk.doc == "ai-act.md" for h in hits)


@pytest.mark.slow
def test_mixed_folder_with_broken_files_indexes_with_a_summary(tmp_path, capsys):
    """PDF, HTML, DOCX, Markdown and text plus broken files, through the CLI, real embedder."""
    from rag.cli import main
    from rag.config import load_settings
    from rag.runtime import Runtime

    folder = tmp_path / "mixed"
    folder.mkdir()
    article_99 = acts.section("### Article 99 ")
    acts.write_pdf(
        folder / "ai-act-99.pdf",
        [*acts.recitals(range(12, 13)), acts.Item("pagebreak"), *article_99],
    )
    (folder / "ai-act-99.html").write_text(acts.html_page(article_99), "utf-8")
    # Each rendition holds other text: one that repeats another's text is not indexed twice.
    acts.write_docx(folder / "ai-act-99.docx", [*acts.recitals(range(13, 14)), *article_99])
    (folder / "gdpr-83.md").write_text(
        acts.markdown(acts.section("### Article 83 ", source=GDPR)), "utf-8"
    )
    (folder / "data-act-50.txt").write_text(
        acts.plain_text(acts.section("### Article 50 ", source=DATA_ACT)), "utf-8"
    )
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 truncated")
    (folder / "empty.txt").write_bytes(b"")
    flags = ["--index", str(tmp_path / "index"), "--threads", "2"]
    assert main(["index", "build", "--corpus", str(folder), *flags]) == 1
    out = capsys.readouterr()
    assert "5 added, 0 changed, 0 removed, 0 unchanged, 2 skipped" in out.out
    assert "broken.docx" in out.err and "empty.txt — empty file" in out.err

    from rag.retrieval import SearchFilters

    rt = Runtime(load_settings(index_dir=tmp_path / "index", threads=2))
    expected = {
        "ai-act-99.pdf": "Article 99(3), p. 2",
        "ai-act-99.html": "Article 99(3)",
        "ai-act-99.docx": "Article 99(3)",
    }
    for doc, locator in expected.items():
        hits = rt.retriever().search(
            "maximum fine for prohibited AI practices", k=5, filters=SearchFilters(docs=[doc])
        )
        assert [h.chunk.locator for h in hits if "35 000 000" in h.chunk.text] == [locator], doc
    titles = {d.id: (d.title, d.lang) for d in rt.generation().documents().values()}
    assert titles["ai-act-99.pdf"] == (acts.TITLE, "en")
