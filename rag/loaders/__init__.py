"""Format loaders beyond Markdown: PDF, HTML, DOCX, and the structure recovery they share.

Each loader maps raw bytes to `(blocks, title)`; `rag.documents.LOADERS` imports them lazily so
that no parser library is loaded before a file of its type is read.
"""
