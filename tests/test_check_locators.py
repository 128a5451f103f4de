"""bench/check_locators.py reads every locator form the chunker writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "check_locators", ROOT / "bench" / "check_locators.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "locator, unit",
    [
        ("Article 99(3)", ("article", "99")),
        ("Article 5(1)(c)–(e), p. 12", ("article", "5")),
        ("Artykuł 22(3)", ("article", "22")),
        ("Recital 12, pp. 3–4", ("recital", "12")),
        ("Betragtning 7", ("recital", "7")),
        ("Annex III, point 1", ("annex", "III")),
        ("Annex, point 20", ("annex", "")),
        ("Annex XI, Section 1, point 1", ("annex", "XI, Section 1")),
        ("Annex, Section D, point 1", ("annex", "Section D")),
        ("Bilag I, Del I", ("annex", "I, Del I")),
        ("Załącznik I, Sekcja A, point 1", ("annex", "I, Sekcja A")),
        ("Notes", None),
        ("Preamble", None),
        ("Opening text", None),
    ],
)
def test_unit_of_every_locator_form(bench, locator, unit):
    assert bench.unit_of(locator) == unit
