"""A Q&A pair (core.qa_pairs) as Alibaba's ``ChatItem``: how GetChatList renders it.

``refDocList`` holds what the app stored in ``metadata["references"]`` (kept when shaped
like the SDK's ``ChatRefDocItem``), then the documents the pair's answers cited, rendered
exactly as Chat and ChatStream render them (answer_items.ref_doc_list).
"""

from __future__ import annotations

from typing import Any

from chatkeep.api.aidoc.answer_items import DocumentUrl, ref_doc_list
from chatkeep.api.aidoc.schemas import ChatItem, millis
from chatkeep.core.qa_pairs import QaPair
from chatkeep.core.types import SessionRecord

# The ChatRefDocItem fields and the JSON type each must have for the SDK to parse it.
REF_DOC_FIELDS: dict[str, type] = {
    "docName": str,
    "docUrl": str,
    "originDocName": str,
    "originDocUrl": str,
    "sourceType": str,
    "docInfo": dict,
    "pageNum": list,
}


def chat_item(pair: QaPair, session: SessionRecord, url: DocumentUrl) -> ChatItem:
    return ChatItem(
        question=pair.question, answer=pair.answer, create_time=millis(pair.created_at),
        folder_id=str(session.domain_id), folder_name=session.domain_name,
        ref_doc_list=pair_ref_docs(pair, url),
    )  # fmt: skip


def pair_ref_docs(pair: QaPair, url: DocumentUrl) -> list[dict[str, Any]]:
    stored = [doc for item in pair.stored_references if (doc := stored_ref_doc(item))]
    return stored + ref_doc_list(pair.answer_references, url)


def stored_ref_doc(item: dict[str, Any]) -> dict[str, Any]:
    """The known fields of the right JSON type; anything else is dropped, so an app's own
    reference format never breaks the SDK."""
    doc = {k: v for k, v in item.items() if isinstance(v, REF_DOC_FIELDS.get(k, ()))}
    pages = doc.get("pageNum")
    if isinstance(pages, list):
        doc["pageNum"] = [page for page in pages if isinstance(page, dict)]
    return doc
