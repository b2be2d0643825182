"""Retrieval on real SQLite and PostgreSQL: Chinese words, English stems, scopes, isolation."""

from __future__ import annotations

import pytest

from chatkeep.core.errors import NotFound
from chatkeep.core.knowledge import documents
from tests.factories import World
from tests.knowledge import files

pytestmark = pytest.mark.anyio

CHINESE = "市中心的公园早上六点开门。图书馆周一闭馆。我们欢迎大家散步。".encode()


async def test_a_two_character_chinese_word_is_found_inside_a_sentence(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    domain = await world.domain(tenant, "城市")
    await world.document(key, domain.id, "city.txt", CHINESE)
    await world.document(key, domain.id, "other.txt", "火车站在城市北边。".encode())
    await world.ingest()

    found = await world.retrieve(key, "公园几点开门?")

    assert [c.document_name for c in found][:1] == ["city.txt"]
    assert "<mark>公园</mark>" in found[0].snippet
    assert (await world.retrieve(key, "图书馆"))[0].document_name == "city.txt"


async def test_english_words_match_their_other_forms(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    domain = await world.domain(tenant, "Guides")
    await world.document(key, domain.id, "parks.txt", b"The parks are opened daily by the rangers.")
    await world.ingest()

    for query in ("park", "opening", "ranger"):
        found = await world.retrieve(key, query)
        assert [c.document_name for c in found] == ["parks.txt"], query
    assert "<mark>parks</mark>" in (await world.retrieve(key, "park"))[0].snippet


async def test_mixed_text_finds_the_right_section_with_its_heading_path(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    domain = await world.domain(tenant, "Guides")
    added = await world.document(key, domain.id, "guide.md", files.MARKDOWN)
    await world.ingest()

    top = (await world.retrieve(key, "周日停车"))[0]
    assert top.heading_path == ["Visitor guide", "公园"]
    assert top.document_number == added.document.number
    museum = (await world.retrieve(key, "museum tickets"))[0]
    assert museum.heading_path == ["Visitor guide", "Museums"]
    assert "ten euros" in museum.text and museum.char_end > museum.char_start


async def test_scope_by_domain_subtree_and_by_document_ids(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    top = await world.domain(tenant, "Top")
    child = await world.domain(tenant, "Child", top.id)
    other = await world.domain(tenant, "Other")
    in_child = await world.document(key, child.id, "child.txt", b"lighthouse keeper notes")
    in_other = await world.document(key, other.id, "other.txt", b"lighthouse maps")
    await world.ingest()

    assert [c.document_name for c in await world.retrieve(key, "lighthouse", domain_id=top.id)] == [
        "child.txt"
    ]
    assert len(await world.retrieve(key, "lighthouse")) == 2
    by_ids = await world.retrieve(key, "lighthouse", document_ids=[in_other.document.id])
    assert [c.document_id for c in by_ids] == [in_other.document.id]
    assert in_child.document.id not in {c.document_id for c in by_ids}


async def test_another_tenants_documents_are_never_retrieved_and_their_ids_are_not_found(
    world: World,
) -> None:
    mine, theirs = await world.tenant(), await world.tenant()
    me, them = await world.key(mine), await world.key(theirs)
    their_domain = await world.domain(theirs, "Secrets")
    secret = await world.document(them, their_domain.id, "s.txt", b"launch codes zebra")
    await world.ingest()

    assert await world.retrieve(me, "zebra") == []
    with pytest.raises(NotFound):
        await world.retrieve(me, "zebra", document_ids=[secret.document.id])
    with pytest.raises(NotFound):
        await world.retrieve(me, "zebra", domain_id=their_domain.id)
    assert len(await world.retrieve(them, "zebra")) == 1


async def test_the_same_bytes_in_the_same_domain_are_stored_once(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    one, two = await world.domain(tenant, "One"), await world.domain(tenant, "Two")
    first = await world.document(key, one.id, "a.txt", b"same bytes")
    again = await world.document(key, one.id, "b.txt", b"same bytes")
    elsewhere = await world.document(key, two.id, "a.txt", b"same bytes")

    assert first.created and not again.created and elsewhere.created
    assert again.document.id == first.document.id
    assert await world.ingest() == 2


async def test_a_deleted_document_is_gone_from_retrieval_at_once(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    domain = await world.domain(tenant, "Guides")
    added = await world.document(key, domain.id, "gone.txt", b"ephemeral walrus facts")
    await world.ingest()
    assert len(await world.retrieve(key, "walrus")) == 1
    principal = await world.principal(key)

    await world.run(lambda uow: documents.delete_document(uow, principal, added.document.id))

    assert await world.retrieve(key, "walrus") == []
    leftovers = await world.run(_search_rows, write=False)
    assert leftovers == 0


async def _search_rows(uow: object) -> int:
    import sqlalchemy as sa

    db = uow.db  # type: ignore[attr-defined]
    chunks = await db.scalar(sa.text("SELECT count(*) FROM chunks"))
    indexed = await db.scalar(sa.text("SELECT count(*) FROM chunk_search"))
    contents = await db.scalar(sa.text("SELECT count(*) FROM document_contents"))
    return int(chunks) + int(indexed) + int(contents)


async def test_a_document_not_yet_ingested_is_not_retrieved(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    domain = await world.domain(tenant, "Guides")
    await world.document(key, domain.id, "later.txt", b"pending narwhal")

    assert await world.retrieve(key, "narwhal") == []
