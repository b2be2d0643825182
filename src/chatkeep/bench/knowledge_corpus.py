"""A generated, labelled knowledge corpus: documents about made-up places, and questions
whose answer is one known section. Deterministic for a seed; English and Chinese."""

from __future__ import annotations

import random
from dataclasses import dataclass

SYLLABLES = ("zar", "vik", "mol", "den", "tra", "quo", "bel", "nix", "sor", "pex", "lum", "ora")
HANZI = "青山绿水金银东南西北春夏秋冬星月云海湖林松竹梅兰"
KINDS = (("park", "公园"), ("museum", "博物馆"), ("library", "图书馆"), ("market", "市场"))
FILLER = (
    "Visitors often ask about the history of the area and about the nearby streets. "
    "The staff answer questions at the entrance and hand out printed maps to everyone. "
)
FILLER_ZH = "游客经常询问这个地区的历史和附近的街道。工作人员在入口回答问题并发放地图。"


@dataclass(frozen=True, slots=True)
class CorpusDocument:
    name: str
    data: bytes
    kind: str  # "markdown" | "pdf"


@dataclass(frozen=True, slots=True)
class LabelledQuestion:
    text: str
    document_name: str
    heading: str  # the answer's section: the last entry of the right chunk's heading path
    language: str  # "en" | "zh"


def _english_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


def _chinese_name(rng: random.Random) -> str:
    return "".join(rng.choice(HANZI) for _ in range(2))


def markdown_document(
    index: int, rng: random.Random
) -> tuple[CorpusDocument, list[LabelledQuestion]]:
    en, zh = _english_name(rng), _chinese_name(rng)
    kind_en, kind_zh = KINDS[index % len(KINDS)]
    hour, fee = rng.randint(5, 11), rng.randint(2, 40)
    place, place_zh = f"{en} {kind_en}", f"{zh}{kind_zh}"
    name = f"{en.lower()}-{index}.md"
    text = "\n\n".join([
        f"# {place}", FILLER * 2,
        "## Opening hours", f"The {place} opens at {hour} in the morning every day. " + FILLER,
        "## Tickets", f"A ticket for the {place} costs {fee} euros; children enter free. " + FILLER,
        "## 开放时间", f"{place_zh}每天早上{hour}点开门。" + FILLER_ZH * 2,
        "## 门票", f"{place_zh}的门票是{fee}欧元,儿童免费。" + FILLER_ZH * 2,
    ])  # fmt: skip
    questions = [
        LabelledQuestion(f"When does the {place} open?", name, "Opening hours", "en"),
        LabelledQuestion(f"How much is a ticket for {place}?", name, "Tickets", "en"),
        LabelledQuestion(f"{place_zh}几点开门?", name, "开放时间", "zh"),
        LabelledQuestion(f"{place_zh}门票多少钱?", name, "门票", "zh"),
    ]
    return CorpusDocument(name, text.encode(), "markdown"), questions


def pdf_document(index: int, rng: random.Random, pages: int = 4) -> CorpusDocument:
    from fpdf import FPDF  # the bench dependency group's (dev), only for PDF corpora

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for page in range(pages):
        pdf.add_page()
        place = f"{_english_name(rng)} {KINDS[page % len(KINDS)][0]}"
        pdf.multi_cell(0, 6, f"Page {page + 1}. The {place} opens early. " + FILLER * 6)
    return CorpusDocument(f"report-{index}.pdf", bytes(pdf.output()), "pdf")


def corpus(
    documents: int, pdf_share: float, seed: int
) -> tuple[list[CorpusDocument], list[LabelledQuestion]]:
    rng = random.Random(seed)
    docs: list[CorpusDocument] = []
    questions: list[LabelledQuestion] = []
    for index in range(documents):
        if rng.random() < pdf_share:
            docs.append(pdf_document(index, rng))
        else:
            doc, asked = markdown_document(index, rng)
            docs.append(doc)
            questions.extend(asked)
    return docs, questions
