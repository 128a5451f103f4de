"""What a search will do: the retriever's switches and fusion weights (`RetrievalOptions`) and
the plan made for one question (`SearchPlan`). Apart from `retrieval`, so that the ranked lists
of `signals` can read both without importing the retriever."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .query import QueryAnalysis


@dataclass
class RetrievalOptions:
    """Switches and fusion weights; the defaults are the product's, the bench flips them."""

    dense: bool = True
    lexical: bool = True
    act_scope: bool = True
    language_scope: bool = True
    references: bool = True
    exact: bool = True
    translate: bool = True
    cover_acts: bool = True
    """A question naming several acts gets one search per act, sharing the k places in turn."""
    acronyms: bool = True
    """Add to the query the acronyms the scoped documents define for long forms it spells out."""
    strip_act_names: bool = True
    rrf_k: int = 3
    """Inside a scope of a few hundred passages the first ranks must count: a small k sharpens RRF."""
    mmr_lambda: float | None = None
    """MMR trade-off (1 = relevance only); None disables diversification."""
    weight_dense: float = 0.5
    weight_lexical: float = 1.0
    weight_reference: float = 2.0
    """An explicitly cited unit is strong intent: it outweighs either text ranking."""
    reference_docs: int = 3
    """A reference naming no act ("Article 6(1)") means that unit in the first this-many documents
    of the text ranking, not in every act of the index."""
    weight_answer_kind: float = 1.0
    """Passages holding a value of the kind asked for (a date for "by when"), ranked by relevance."""
    weight_definition: float = 2.0
    """A passage defining the question's quoted term ("‘connected product’ means") is near-decisive."""
    weight_defined_term: float = 1.0
    """A passage defining a term the question uses unquoted, when it asks what a term means."""
    headings: bool = True
    weight_heading: float = 0.5
    recital_prior: float = 0.5
    """Multiplier on recitals' fused scores: answers are expected in the operative provisions."""
    notes_prior: float = 1e-6
    """Multiplier on footnote passages' fused scores ("Notes": references to the Official Journal,
    which share the words of the provisions that cite them but answer nothing). Small enough that a
    footnote never outranks an operative passage the fusion ranks; it still fills a list that has
    nothing else."""
    weight_sentence: float = 0.5
    """Dense similarity of a passage's best-matching sentence (`chunking.sentence_units`): a
    question usually meets one sentence, which the passage's single vector blurs or truncates."""
    asked_article_units: int = 3
    """How many of the best-matching articles count as "the article asked about" when the closing
    article's passages that cite it are put first."""
    weight_application_article: float = 2.0
    """For questions asking from when something applies: passages of the act's closing article
    ("Entry into force and application", "Transposition"), where acts set those dates."""
    weight_original_when_translated: float = 0.5
    """Weight of the untranslated question's lists once a translation exists (English-only models)."""
    question_kind: str = "gated"
    """How the kind of value asked for is read: "cues" (`rag.answer_types` word lists), "meaning"
    (nearest prototype questions, `rag.question_kinds`), or "gated": the cues' kind, only where the
    meaning says the question asks for a value at all ("When a company builds …, must it …?" does
    not)."""


@dataclass
class SearchPlan:
    """What one search will do: scope, query forms, analysis; kept for inspection and tests."""

    analysis: QueryAnalysis
    scope_docs: list[str] | None
    forms: list[tuple[str, float]]
    act_docs: dict[str, list[str]]
    vectors: list[np.ndarray] = field(default_factory=list)
    """Per query form, its embedding."""
