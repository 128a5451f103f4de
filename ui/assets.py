"""The page's own stylesheet and script, served inline: no asset comes from any other host."""

CSS = """
#sovrag-style { display: none !important; }
.sovrag-header h1 { font-size: 1.45rem; margin: 0 0 .2rem 0; }
.sovrag-header p { margin: 0; color: var(--body-text-color-subdued); }
.answer { line-height: 1.55; }
.answer.streaming .cursor { animation: sovrag-blink 1s steps(1) infinite; }
@keyframes sovrag-blink { 50% { opacity: 0; } }
@media (prefers-reduced-motion: reduce) { .answer.streaming .cursor { animation: none; } }
a.cite-ref, span.cite-ref {
  color: #1d4ed8; font-weight: 600; text-decoration: underline; text-underline-offset: 2px;
  padding: 0 .1em; border-radius: 3px; cursor: pointer; white-space: nowrap;
}
.dark a.cite-ref, .dark span.cite-ref { color: #93c5fd; }
a.cite-ref:focus-visible, .source:focus-visible, summary:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px;
}
.unsupported { background: #fff4e5; color: #3d2200; border-bottom: 2px dashed #b45309; }
.unsupported .flag { font-size: .85em; font-weight: 600; color: #8a3b00; white-space: nowrap; }
.dark .unsupported { background: #3b2607; color: #ffe8c7; }
.dark .unsupported .flag { color: #fbbf77; }
.answer.abstained { border-left: 4px solid #b45309; padding-left: .6rem; }
.answer.abstained ul.related { margin: .3rem 0 0 1.1rem; padding: 0; }
.answer.abstained ul.related a.cite-ref { white-space: normal; overflow-wrap: anywhere; }
.sources { display: flex; flex-direction: column; gap: .6rem; }
.sources details.turn { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .4rem .7rem; }
.sources summary { cursor: pointer; font-weight: 600; padding: .2rem 0; }
.sources summary .turn-q { display: block; font-weight: 400; font-size: .9em;
  color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
.source { border-top: 1px solid var(--border-color-primary); padding: .5rem 0; scroll-margin: 5rem;
  transition: background-color .6s; }
.source h3 { font-size: 1rem; margin: 0 0 .15rem 0; }
.source .num { color: #1d4ed8; }
.dark .source .num { color: #93c5fd; }
.source .meta { margin: 0 0 .35rem 0; font-size: .88em; color: var(--body-text-color-subdued); }
.source .locator { font-weight: 600; color: var(--body-text-color); }
.source .doc { font-family: var(--font-mono); font-size: .92em; }
.source blockquote { margin: 0; padding: .35rem .6rem; border-left: 3px solid var(--border-color-accent, #94a3b8);
  max-height: 16rem; overflow: auto; white-space: pre-wrap; font-size: .94em; line-height: 1.45; }
.source mark { background: #fde047; color: #111; padding: 0 .1em; border-radius: 2px; }
.source.flash { background: rgba(253, 224, 71, .35); outline: 2px solid #f59e0b; border-radius: 6px; }
.sources-empty { color: var(--body-text-color-subdued); }
.library-wrap { overflow-x: auto; }
table.library { width: 100%; border-collapse: collapse; font-size: .95em; }
table.library caption { text-align: left; font-weight: 600; padding: .3rem 0; }
table.library th, table.library td { text-align: left; padding: .35rem .5rem;
  border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
table.library td.num { text-align: right; }
table.library td.doc { font-family: var(--font-mono); font-size: .9em; overflow-wrap: anywhere; }
.ingest-results ul { margin: .3rem 0; padding-left: 1.1rem; }
.ingest-results .skipped strong, .ingest-results .rejected strong, .ingest-results .error strong { color: #b91c1c; }
.dark .ingest-results .skipped strong, .dark .ingest-results .rejected strong { color: #fca5a5; }
.ingest-results .added strong, .ingest-results .changed strong { color: #15803d; }
.dark .ingest-results .added strong, .dark .ingest-results .changed strong { color: #86efac; }
.notice { padding: .4rem .6rem; border-radius: 6px; border: 1px solid var(--border-color-primary); }
.notice.error { border-color: #b91c1c; color: #7f1d1d; background: #fef2f2; }
.dark .notice.error { color: #fecaca; background: #450a0a; }
#sovrag-status { min-height: 1.5em; font-size: .92em; color: var(--body-text-color-subdued); }
@media (max-width: 640px) {
  .sovrag-header h1 { font-size: 1.2rem !important; line-height: 1.3; }
  .sovrag-header p { font-size: .9em; }
  table.library th:nth-child(5), table.library td:nth-child(5) { display: none; }
}
"""

JS = """
() => {
  if (window.__sovragRefs) return;
  window.__sovragRefs = true;
  // A reference such as [1] in an answer opens its source card in the sources panel.
  window.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.cite-ref');
    if (!link) return;
    // The chat's sanitizer keeps href but drops data-* attributes.
    const id = (link.getAttribute('href') || '').replace(/^#/, '');
    const card = id && document.getElementById(id);
    event.preventDefault();
    event.stopPropagation();
    if (!card) return;
    const group = card.closest('details');
    if (group) group.open = true;
    document.querySelectorAll('.source.flash').forEach((el) => el.classList.remove('flash'));
    card.classList.add('flash');
    const reduce = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    card.scrollIntoView({behavior: reduce ? 'auto' : 'smooth', block: 'center'});
    card.focus({preventScroll: true});
  }, true);
}
"""
