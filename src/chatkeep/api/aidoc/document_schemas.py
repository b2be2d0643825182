"""AI-doc wire shapes of the document actions, Retrieve and SendDocumentAskQuestion.

Times here are UTC ``yyyy-MM-ddTHH:mmZ`` strings (``DocumentDetailItem``), not the integer
milliseconds of the chat actions: that is what the SDK's model declares.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr

from chatkeep.api.aidoc.schemas import FOLDER_ID_MAX, AidocModel
from chatkeep.core.knowledge.retrieval import DOCUMENT_IDS_MAX, QUERY_MAX_CHARS, TOP_K_MAX
from chatkeep.core.knowledge.types import DocumentRecord

TOP_K_DEFAULT = 5
FOLDER_IDS_MAX = 20
DOCUMENT_NUMBER_MAX = 2**63 - 1  # a BIGINT: larger would not even reach the database
TASK_ID_MAX = 36  # a UUID's text
SESSION_ID_MAX = 36
PROMPT_MAX = 32 * 1024  # characters, as the native API's question

# Alibaba leaves jobStatus's values undocumented; chatkeep shows its own document status.
JobStatus = Literal["queued", "parsing", "ready", "failed"]


def minute_time(moment: datetime) -> str:
    """``yyyy-MM-ddTHH:mmZ`` in UTC, as the SDK's DocumentDetailItem documents it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


DocumentNumber = Annotated[StrictInt, Field(ge=1, le=DOCUMENT_NUMBER_MAX)]


# --- requests -------------------------------------------------------------------------


class ParsingResultRequest(AidocModel):
    task_id: StrictStr = Field(max_length=TASK_ID_MAX)
    return_format: Literal["markdown", "json"] = Field(
        default="markdown", description="`markdown` (default) or `json`."
    )


class AnalyzeResultRequest(AidocModel):
    job_id: StrictStr | None = None


class RetrieveRequest(AidocModel):
    query: StrictStr = Field(min_length=1, max_length=QUERY_MAX_CHARS)
    document_ids: list[DocumentNumber] | None = Field(
        default=None, max_length=DOCUMENT_IDS_MAX,
        description="Only these documents (integer ids); empty or absent: no restriction.",
    )  # fmt: skip
    folder_ids: list[StrictStr] | None = Field(
        default=None, max_length=FOLDER_IDS_MAX,
        description="Only these folders and their sub-folders; empty or absent: all.",
    )  # fmt: skip
    top_k: StrictInt = Field(default=TOP_K_DEFAULT, ge=1, le=TOP_K_MAX)
    pre_retrieve_top_k: StrictInt | None = Field(default=None, ge=1, description="Ignored.")
    use_reranker: StrictBool | None = Field(default=None, description="Ignored: no reranker.")
    reranker_threshold: StrictFloat | StrictInt | None = Field(default=None, description="Ignored.")


class AskQuestionRequest(AidocModel):
    prompt: StrictStr = Field(max_length=PROMPT_MAX)
    folder_id: StrictStr | None = Field(default=None, max_length=FOLDER_ID_MAX)
    session_id: StrictStr | None = Field(default=None, max_length=SESSION_ID_MAX)


# --- responses ------------------------------------------------------------------------


class TaskCreated(AidocModel):
    task_id: str


class ParsingResult(AidocModel):
    content: str


class DocumentDetailItem(AidocModel):
    id: int = Field(description="The document's integer id (Retrieve's documentIds).")
    doc_name: str
    doc_url: str = Field(description="A signed link to the stored file, valid 24 h.")
    origin_doc_name: str
    origin_doc_url: str
    doc_hash: str = Field(description="SHA-256 of the file, hex.")
    folder_id: str
    folder_name: str
    job_id: str = Field(description="The taskId: one parsing job per document.")
    job_status: JobStatus
    create_time: str = Field(description="UTC yyyy-MM-ddTHH:mmZ")
    update_time: str = Field(description="UTC yyyy-MM-ddTHH:mmZ")

    @classmethod
    def of(cls, d: DocumentRecord, folder_name: str, url: str) -> DocumentDetailItem:
        return cls(
            id=d.number, doc_name=d.name, doc_url=url, origin_doc_name=d.name,
            origin_doc_url=url, doc_hash=d.sha256, folder_id=str(d.domain_id),
            folder_name=folder_name, job_id=str(d.id), job_status=d.status,
            create_time=minute_time(d.created_at), update_time=minute_time(d.updated_at),
        )  # fmt: skip


class ChunkItem(AidocModel):
    chunk_id: str
    chunk_content: str
    doc_id: str = Field(description="The document's integer id, as a decimal string.")
    doc_name: str
    doc_url: str
    doc_els_ids: list[str] = Field(description="Always empty: no layout element ids.")
    score: float
    rerank_score: float | None = Field(description="Always null: no reranker.")
    weighted_score: float = Field(description="Equal to score.")


class RetrieveData(AidocModel):
    job_id: str = Field(description="The request's id.")
    results: list[ChunkItem]


class AskAnswer(AidocModel):
    answer: str
    document: list[str] = Field(description="Signed links to the documents the answer drew on.")
