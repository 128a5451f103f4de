"""GET/POST/DELETE /v1/documents: the document library (`rag.library`) over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi import Path as PathParam

from ..library import DocumentNotFound, FileResult
from .deps import LibraryDep
from .errors import APIError, documented
from .schemas import MAX_UPLOAD_FILES, DeleteResponse, DocumentList, UploadResponse

_DELETE_LINK = {
    "DeleteDocument": {
        "operationId": "delete_document_v1_documents__doc_id__delete",
        "parameters": {"doc_id": "$response.body#/files/0/doc"},
        "description": "Remove the first uploaded document again",
    }
}
_REJECTION_STATUS = {"unsupported_type": 415, "content_mismatch": 415, "file_too_large": 413}
"""HTTP status of an upload rule's refusal; the other rules are 400."""

Files = Annotated[
    list[UploadFile],
    File(description="Documents to index (md, txt, html, pdf, docx); the file name becomes the id"),
]
DocPath = Annotated[str, PathParam(min_length=1, max_length=500)]


def _nothing_accepted(results: list[FileResult]) -> APIError:
    statuses = {_REJECTION_STATUS.get(r.code or "", 400) for r in results}
    status = statuses.pop() if len(statuses) == 1 else 400
    reasons = "; ".join(f"{r.filename or '(no name)'}: {r.reason}" for r in results)
    return APIError(
        status,
        "No file was accepted: " + reasons,
        "no_file_accepted",
        details=[r.to_dict() for r in results],
    )


def router(upload_limit: int) -> APIRouter:
    """The documents routes; `upload_limit` (bytes per file) bounds the upload body."""
    api = APIRouter(tags=["documents"])

    @api.get("/v1/documents", response_model=None, responses=documented(401, 503, ok=DocumentList))
    def list_documents(library: LibraryDep) -> dict:
        """The documents of the current index generation."""
        generation, documents = library.documents()
        return {"generation": generation, "documents": documents}

    @api.post(
        "/v1/documents",
        response_model=None,
        max_body_size=upload_limit + (1 << 20),  # files plus multipart overhead
        responses=documented(
            400, 401, 409, 413, 415, 422, 503, ok=UploadResponse, links=_DELETE_LINK
        ),
    )
    def upload_documents(files: Files, library: LibraryDep) -> dict:
        """Store uploaded files under the index folder and index them incrementally; per-file \
result."""
        if len(files) > MAX_UPLOAD_FILES:
            raise APIError(400, f"At most {MAX_UPLOAD_FILES} files per request.", "too_many_files")
        results, report = library.add([(f.filename, f.file) for f in files])
        if report is None:
            raise _nothing_accepted(results)
        return {
            "generation": report.generation,
            "files": [r.to_dict() for r in results],
            "summary": report.summary(),
        }

    @api.delete(
        "/v1/documents/{doc_id:path}",
        response_model=None,
        responses=documented(401, 404, 409, 503, ok=DeleteResponse),
    )
    def delete_document(doc_id: DocPath, library: LibraryDep) -> dict:
        """Remove a document from the index (and its stored file, if it was uploaded)."""
        try:
            report = library.remove([doc_id])
        except DocumentNotFound as exc:
            raise APIError(
                404,
                f"No document '{doc_id}' in the index (see GET /v1/documents).",
                "document_not_found",
            ) from exc
        return {"removed": doc_id, "generation": report.generation, "summary": report.summary()}

    return api
