"""HTML → blocks via selectolax (Lexbor parser): boilerplate dropped, headings and lists kept.

Boilerplate is removed by what the page says about itself (nav/header/footer/aside, ARIA roles,
menu/breadcrumb/cookie class names) and by link density, rather than by a statistical text
classifier: such classifiers tend to drop the short numbered points (`(a) …;`) that legal
citations depend on. EUR-Lex's `Article 99` + title paragraphs and `(a) | text` tables are
turned into the same structure the Markdown corpus has.
"""

from __future__ import annotations

import re

from ..blocks import Block, SkipFile, decode_text
from .structure import BARE_ANNEX, FOOTNOTE, mark_legal_headings

_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "object",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "input",
    "textarea",
    "dialog",
    "menu",
)
_DROP_ROLES = (
    "navigation",
    "banner",
    "contentinfo",
    "search",
    "complementary",
    "menu",
    "menubar",
    "dialog",
    "alert",
)
_BOILERPLATE_TOKENS = {
    "nav",
    "navbar",
    "navigation",
    "menu",
    "breadcrumb",
    "breadcrumbs",
    "footer",
    "header",
    "masthead",
    "sidebar",
    "cookie",
    "cookies",
    "consent",
    "banner",
    "skip",
    "share",
    "social",
    "toolbar",
    "pagination",
    "pager",
    "subscribe",
    "newsletter",
    "related",
    "topbar",
    "site-header",
    "site-footer",
}
_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "caption",
    "center",
    "address",
    "body",
    "details",
    "summary",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "html",
}
_LIST_TAGS = {"ul", "ol"}
_HEADING = re.compile(r"^h([1-6])$")
_LABEL = re.compile(r"^(?:\(?[a-z0-9ivxlc]{1,4}[.)]|[—–•▪●-])$", re.IGNORECASE)
MAX_DEPTH = 256
"""Deepest element nesting read. Real pages (EUR-Lex included) stay far below it; hostile ones
nested tens of thousands deep make the parser's scope checks quadratic (minutes per file) and
the block walk recurse past Python's limit. Browsers cap their trees near here too (Chromium: 512)."""
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_NOT_NESTING = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
    "param",
    "keygen",
    "p",
    "li",
    "dt",
    "dd",
    "tr",
    "td",
    "th",
    "thead",
    "tbody",
    "tfoot",
    "option",
    "optgroup",
    "colgroup",
    "caption",
    "rb",
    "rt",
    "rp",
    "html",
    "head",
    "body",
}
"""Void elements and those whose end tag may be omitted: they do not count towards the depth."""


def load_html(raw: bytes, name: str) -> tuple[list[Block], str | None]:
    from selectolax.lexbor import LexborHTMLParser

    text = decode_text(raw)
    if "<" not in text[:65536]:
        raise SkipFile("not HTML (no markup found)")
    if _nesting_depth(text) > MAX_DEPTH:
        raise SkipFile(
            f"HTML nested more than {MAX_DEPTH} elements deep (malformed or hostile page)"
        )
    tree = LexborHTMLParser(text)
    title_node = tree.css_first("title")
    title = _clean(title_node.text()) if title_node is not None else ""
    notes = _take_notes(tree)
    _drop_boilerplate(tree)
    root = _content_root(tree)
    if root is None:
        raise SkipFile("HTML page has no body text")
    blocks: list[Block] = []
    try:
        _walk(root, blocks, indent=-1)
    except RecursionError:  # nested tables count once in the scan but recurse several frames deep
        raise SkipFile(
            f"HTML nested too deeply to read (over {MAX_DEPTH} levels of tables or lists)"
        ) from None
    blocks = [b for b in blocks if b.text and not FOOTNOTE.match(b.text)]
    blocks = _annex_group_titles(blocks)
    if notes:  # the chunker keeps them as "Notes" passages, apart from the operative text
        blocks += [Block(NOTES_HEADING, heading_level=2), *(Block(n) for n in notes)]
    if not title:
        title = next((b.text for b in blocks if b.heading_level == 1), "")
    return mark_legal_headings(blocks), title or None


_GROUP_TITLE = re.compile(r"(?:^|\s)oj-ti-grseq-\d")
"""The OJ's group titles ('Section A. List of Union harmonisation legislation', '1. Introduction'),
which divide annexes; in an article they would end the article's unit, so they count as headings
only after an annex has begun (`_annex_group_titles`)."""
GROUP_TITLE_LEVEL = 4
NOTES_HEADING = "Notes"
_NOTE_SELECTOR = "p.oj-note, p.note, p.footnote, div.footnote, dd.footnote"
"""Official Journal footnotes (`<p class="oj-note">(1) OJ C 286, …</p>`) and their look-alikes."""
_NOTE_CALL = re.compile(r"^\(?\s*\d{1,3}\s*\)?$")
_HEADER_CLASS = re.compile(r"^(?:oj-)?hd-(?:date|lg|ti|oj|uniq|coll)$")
"""The OJ page header (`3.6.2022 | EN | Official Journal of the European Union | L 152/1`)."""


def _annex_group_titles(blocks: list[Block]) -> list[Block]:
    in_annex = False
    for block in blocks:
        if block.heading_level == 0 and BARE_ANNEX.match(block.text):
            in_annex = True
        elif block.heading_level == GROUP_TITLE_LEVEL and not in_annex:
            block.heading_level = 0
    return blocks


def _take_notes(tree) -> list[str]:
    """Footnotes out of the running text, and the footnote calls (`(1)` links to them) dropped:
    a call left in a sentence reads as a point label or a number. Also drops the OJ page header."""
    notes: list[str] = []
    for node in tree.css(_NOTE_SELECTOR):
        text = _clean(node.text(deep=True))
        if text:
            notes.append(text)
        node.decompose()
    for node in tree.css('a[href^="#"]'):
        if _NOTE_CALL.match(_clean(node.text(deep=True))):
            node.replace_with(_CALL_GONE)  # `_clean` removes it with the space before it
    for node in tree.css("[class]"):
        if any(_HEADER_CLASS.match(c) for c in (node.attributes.get("class") or "").split()):
            node.decompose()
    return notes


def _nesting_depth(text: str) -> int:
    """Deepest nesting of elements that need an end tag, from one linear scan before parsing."""
    depth = deepest = 0
    for match in _TAG.finditer(text):
        closing, tag, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if tag in _NOT_NESTING or self_closing:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _drop_boilerplate(tree) -> None:
    selectors = (
        list(_DROP_TAGS)
        + [f'[role="{r}"]' for r in _DROP_ROLES]
        + ["[hidden]", '[aria-hidden="true"]']
    )
    for node in tree.css(", ".join(selectors)):
        node.decompose()
    for node in tree.css("[class], [id]"):
        attrs = node.attributes
        tokens = set(
            re.split(r"[\s_]+", f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower())
        )
        tokens |= {part for token in tokens for part in token.split("-")}
        if tokens & _BOILERPLATE_TOKENS and node.tag not in ("html", "body", "main", "article"):
            node.decompose()
    for node in tree.css("ul, ol, div, table, section"):
        if _link_dense(node):
            node.decompose()


def _link_dense(node) -> bool:
    """Lists of links (menus, 'related pages') carry little text of their own."""
    text = _clean(node.text(deep=True))
    if not text:
        return False
    links = node.css("a")
    link_text = sum(len(_clean(a.text(deep=True))) for a in links)
    return len(links) >= 3 and link_text / len(text) > 0.6


def _content_root(tree):
    """`<main>` or the single `<article>` when the page marks its content, else the body."""
    for selector in ("main", '[role="main"]'):
        node = tree.css_first(selector)
        if node is not None and _clean(node.text(deep=True)):
            return node
    articles = tree.css("article")
    if len(articles) == 1 and _clean(articles[0].text(deep=True)):
        return articles[0]
    return tree.body


def _walk(node, out: list[Block], indent: int) -> None:
    """Emit one block per run of inline content; headings, list items and table rows are blocks."""
    inline: list[str] = []

    def flush() -> None:
        text = _clean(" ".join(inline))
        inline.clear()
        if text:
            out.append(Block(text, indent=indent))

    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            inline.append(child.text(deep=False))
        elif tag in ("br",):
            inline.append(" ")
        elif tag not in _BLOCK_TAGS:
            inline.append(child.text(deep=True, separator=""))
        else:
            flush()
            heading = _HEADING.match(tag)
            if heading:
                text = _clean(child.text(deep=True))
                if text:
                    out.append(Block(text, heading_level=int(heading.group(1))))
            elif tag == "p" and _GROUP_TITLE.search(child.attributes.get("class") or ""):
                text = _clean(child.text(deep=True))
                if text:
                    out.append(Block(text, heading_level=GROUP_TITLE_LEVEL))
            elif tag in _LIST_TAGS:
                for item in child.iter():
                    if item.tag == "li":
                        _walk(item, out, indent=indent + 1)
                    else:
                        _walk(item, out, indent=indent)
            elif tag == "tr":
                _table_row(child, out)
            elif tag != "hr":
                _walk(child, out, indent=indent)
    flush()


def _table_row(row, out: list[Block]) -> None:
    """`(a) | text` rows (EUR-Lex points and recitals): the label cells prefix the text cell."""
    cells = [c for c in row.iter() if c.tag in ("td", "th")]
    texts = [_clean(c.text(deep=True)) for c in cells]
    nested = any(c.css_first("table, p, ul, ol, div") is not None for c in cells)
    if not nested:
        joined = _clean(" ".join(t for t in texts if t))
        if joined:
            out.append(Block(joined))
        return
    labels = [t for c, t in zip(cells[:-1], texts[:-1]) if t]
    inner: list[Block] = []
    _walk(cells[-1], inner, indent=-1)
    if labels and inner and all(_LABEL.match(t) for t in labels):
        inner[0].text = f"{' '.join(labels)} {inner[0].text}"
    elif labels:
        out.append(Block(" ".join(labels)))
    out.extend(inner)


_CALL_GONE = "\u2063"
_BEFORE_CALL = re.compile(r"\s*\u2063(?:\s*(?=[,.;:)]))?")


def _clean(text: str | None) -> str:
    return " ".join(_BEFORE_CALL.sub("", (text or "").replace("\xa0", " ")).split())
