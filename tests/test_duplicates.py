"""The same act twice: reported and indexed once (CLI, HTTP, ingest); another version is kept."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fixtures import eurlex
from fixtures.stub_embedder import StubEmbedder

from rag.api import create_app
from rag.ingest import run_ingest
from rag.store import IndexStore

try:
    from tests.test_api_fixtures import tiny_corpus, tiny_runtime
except ImportError:
    from test_api_fixtures import tiny_corpus, tiny_runtime

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "real-formats"
SOURCE = ROOT / "corpus" / "interoperable-europe-act-2024-903.md"


def _ingest(store: IndexStore, paths: list[Path], full: bool = False):
    return run_ingest(
        store,
        StubEmbedder(),
        paths,
        max_bytes=10**9,
        full_rebuild=full,
        say=lambda message: None,
        show_progress=False,
    )


def _page(body: str, indent: str) -> str:
    rows = [f"{indent}<p>{line}</p>" for line in body.split("\n\n")]
    return "<html><body>\n" + "\n".join(rows) + "\n</body></html>\n"


def test_same_file_and_same_text_under_other_names_are_not_indexed_twice(tmp_path):
    corpus = tiny_corpus(tmp_path / "corpus")
    store = IndexStore(tmp_path / "index")
    _ingest(store, [corpus], full=True)
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(corpus / "interoperable-europe-act.md", extra / "copy.markdown")
    text = "Article 1\n\nScope\n\n1. This note covers sovereign cloud procurement by ministries."
    (extra / "note.html").write_text(_page(text, ""), "utf-8")
    report = _ingest(store, [extra])
    assert report.added == ["note.html"]
    assert report.duplicates == [("copy.markdown", "same file as interoperable-europe-act.md")]
    assert "copy.markdown" in report.unchanged
    # The same page saved again with other spacing and as .xhtml: other bytes, same text.
    (extra / "note.xhtml").write_text(_page(text, "    ").replace("1.  This", "1. This"), "utf-8")
    report = _ingest(store, [extra / "note.xhtml"])
    assert report.duplicates == [("note.xhtml", "same text as note.html")]
    assert sorted(store.open().documents()) == ["interoperable-europe-act.md", "note.html"]


def test_two_versions_of_one_act_are_both_indexed_with_their_version_in_the_title(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "gdpr-2016.html").write_text(
        eurlex.consolidated_page("04.05.2016", corrected=False), "utf-8"
    )
    (folder / "gdpr-2018.html").write_text(eurlex.consolidated_page("23.05.2018"), "utf-8")
    store = IndexStore(tmp_path / "index")
    report = _ingest(store, [folder], full=True)
    assert report.duplicates == [] and sorted(report.added) == ["gdpr-2016.html", "gdpr-2018.html"]
    docs = store.open().documents()
    assert docs["gdpr-2016.html"].title.endswith("(consolidated text of 4 May 2016)")
    assert docs["gdpr-2018.html"].title.endswith("(consolidated text of 23 May 2018)")
    act = docs["gdpr-2018.html"].act()
    assert act.number == "2016/679" and act.consolidated == "2018-05-23"
    assert act.short_title == "General Data Protection Regulation"
    # The UI's library names the act and its edition for each document.
    from ui.render import library_html

    shown = library_html(docs.values())
    for edition in ("consolidated text of 4 May 2016", "consolidated text of 23 May 2018"):
        assert f"<td>Regulation (EU) 2016/679<br><small>{edition}</small></td>" in shown


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-formats not present")
def test_the_oj_file_of_an_act_indexed_as_markdown_is_the_same_act(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(ROOT / "corpus" / "data-governance-act-2022-868.md", folder)
    shutil.copy(REAL / "data-governance-act-2022-868.oj.html", folder)
    store = IndexStore(tmp_path / "index")
    report = _ingest(store, [folder], full=True)
    assert report.added == ["data-governance-act-2022-868.md"]
    assert report.duplicates == [
        (
            "data-governance-act-2022-868.oj.html",
            (
                "same act as data-governance-act-2022-868.md (Regulation (EU) 2022/868, "
                "as published in the Official Journal, en)"
            ),
        )
    ]


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=ROOT,
        check=False,
    )


def test_duplicate_through_the_cli_is_reported_and_not_indexed(tmp_path):
    corpus = tiny_corpus(tmp_path / "corpus")
    tiny = corpus / "interoperable-europe-act.md"
    title_line = next(
        line
        for line in SOURCE.read_text("utf-8").splitlines()
        if line.startswith("REGULATION (EU) 2024/903")
    )
    head, body = tiny.read_text("utf-8").split("\n", 1)
    tiny.write_text(f"{head}\n\n{title_line}\n{body}", "utf-8")  # the act's own title line
    shutil.copy(tiny, corpus / "later-copy.md")
    index = tmp_path / "index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOVRAG_")}
    env["SOVRAG_CONFIG"] = str(tmp_path / "none.toml")
    proc = _cli("index", "build", "--corpus", str(corpus), "--index", str(index), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "unchanged: later-copy.md — same file as interoperable-europe-act.md" in proc.stderr
    status = _cli("index", "status", "--json", "--index", str(index), env=env)
    assert json.loads(status.stdout)["documents"] == 1
    # The status shows the act as its text names it: designation and version.
    act = json.loads(status.stdout)["document_list"][0]["act"]
    assert act["number"] == "2024/903" and act["consolidated"] == ""
    shown = _cli("index", "status", "--index", str(index), env=env).stdout
    assert "Regulation (EU) 2024/903, as published in the OJ" in shown


def test_duplicate_upload_through_the_api(tmp_path):
    runtime = tiny_runtime(tmp_path)
    client = TestClient(create_app(runtime))
    before = client.get("/v1/documents").json()["documents"]
    source = runtime.settings.corpus_dir / "interoperable-europe-act.md"
    response = client.post(
        "/v1/documents", files=[("files", ("iea.markdown", source.read_bytes(), "text/markdown"))]
    )
    assert response.status_code == 200, response.text
    result = response.json()["files"][0]
    assert result["doc"] == "iea.markdown" and result["status"] == "unchanged"
    assert result["reason"] == "same file as interoperable-europe-act.md"
    after = client.get("/v1/documents").json()["documents"]
    assert [d["id"] for d in after] == [d["id"] for d in before] == ["interoperable-europe-act.md"]
    hits = client.post("/v1/search", json={"query": "interoperability", "k": 10}).json()["hits"]
    assert {h["doc"] for h in hits} == {"interoperable-europe-act.md"}


def test_replacing_a_file_by_the_same_act_in_another_format_keeps_the_act(tmp_path):
    corpus = tiny_corpus(tmp_path / "corpus")
    store = IndexStore(tmp_path / "index")
    _ingest(store, [corpus], full=True)
    source = corpus / "interoperable-europe-act.md"
    source.rename(corpus / "iea.markdown")  # the same bytes under a new name, the old one gone
    report = _ingest(store, [corpus])
    assert report.added == ["iea.markdown"] and report.removed == ["interoperable-europe-act.md"]
    assert report.duplicates == []
    assert sorted(store.open().documents()) == ["iea.markdown"]
