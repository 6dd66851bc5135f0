"""Parsing every supported format, refusing bad files with stable codes, and chunking."""

from __future__ import annotations

import io
import itertools

import docx
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from hrcore.errors import Invalid
from knowledge.chunk import MAX_WORDS, chunk_blocks, split_sentences
from knowledge.ingest import prepare
from knowledge.parse import Block, parse


def make_pdf(*sections: tuple[str, str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for heading, body in sections:
        pdf.multi_cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    return bytes(pdf.output())


def make_image_only_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    # A tiny grey PNG, as a scanner would embed a page image.
    from PIL import Image

    image = Image.new("RGB", (40, 40), (200, 200, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    pdf.image(buffer, x=10, y=10, w=100)
    return bytes(pdf.output())


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Leave Policy", level=1)
    document.add_heading("Maternity leave", level=2)
    document.add_paragraph("A female employee is entitled to three months of maternity leave.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Leave", "Days"
    table.cell(1, 0).text, table.cell(1, 1).text = "Paternity", "14"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_markdown_keeps_heading_paths_and_paragraphs() -> None:
    text = (
        b"# Leave Policy\n\nIntro.\n\n## Maternity leave\n\nNinety days.\n\n# Conduct\n\nBe kind.\n"
    )
    kind, blocks = parse("policy.md", text)
    assert kind == "markdown"
    assert blocks == [
        Block(("Leave Policy",), "Intro."),
        Block(("Leave Policy", "Maternity leave"), "Ninety days."),
        Block(("Conduct",), "Be kind."),
    ]


def test_plain_text_uses_short_standalone_lines_as_headings() -> None:
    text = b"Saa za kazi\n\nKazi inaanza saa mbili asubuhi.\nKila siku ya wiki.\n"
    kind, blocks = parse("saa.txt", text)
    assert kind == "text"
    assert blocks == [Block(("Saa za kazi",), "Kazi inaanza saa mbili asubuhi. Kila siku ya wiki.")]


def test_pdf_text_layer_is_read_with_headings() -> None:
    content = make_pdf(
        ("Maternity leave", "A female employee is entitled to three months of leave."),
        ("Overtime", "Extra hours are paid at one and a half times the hourly rate."),
    )
    kind, blocks = parse("handbook.pdf", content)
    assert kind == "pdf"
    assert [b.heading_path for b in blocks] == [("Maternity leave",), ("Overtime",)]
    assert "three months" in blocks[0].text


def test_docx_headings_paragraphs_and_tables() -> None:
    kind, blocks = parse("policy.docx", make_docx())
    assert kind == "docx"
    assert blocks[0] == Block(
        ("Leave Policy", "Maternity leave"),
        "A female employee is entitled to three months of maternity leave.",
    )
    assert blocks[1].text == "Leave | Days. Paternity | 14."


def _encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(("Pay", "Monthly pay.")))))
    writer.encrypt("secret-password")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("empty.md", b"", "empty_document"),
        ("blank.txt", b"  \n\n ", "empty_document"),
        ("headings-only.md", b"# Title\n\n## Section\n", "empty_document"),
        ("scan.pdf", "image", "no_text_layer"),
        ("locked.pdf", "encrypted", "encrypted_document"),
        ("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "encrypted_document"),
        ("broken.pdf", b"%PDF-1.7\n garbage \x00\x01 no xref", "corrupt_document"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "corrupt_document"),
        ("binary.txt", b"\x00\x01\x02\x03 data", "corrupt_document"),
        ("policy.xlsx", b"PK\x03\x04 spreadsheet", "unsupported_type"),
        ("photo.jpg", b"\xff\xd8\xff\xe0 jpeg", "unsupported_type"),
    ],
)
def test_bad_files_are_refused_with_a_stable_code(
    filename: str, content: object, code: str
) -> None:
    if content == "image":
        content = make_image_only_pdf()
    elif content == "encrypted":
        content = _encrypted_pdf()
    assert isinstance(content, bytes)
    with pytest.raises(Invalid) as caught:
        prepare(filename, content)
    assert caught.value.code == code
    assert caught.value.message


def test_files_over_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.settings import get_knowledge_settings

    monkeypatch.setattr(get_knowledge_settings(), "max_document_bytes", 1000)
    with pytest.raises(Invalid) as caught:
        prepare("big.md", b"# Big\n\n" + b"word " * 300)
    assert caught.value.code == "document_too_large"
    prepare("small.md", b"# Small\n\nFits.")


def test_sentences_keep_abbreviations_whole() -> None:
    assert split_sentences("Leave, e.g. sick leave, is paid. Apply early! Is it? Yes.") == [
        "Leave, e.g. sick leave, is paid.",
        "Apply early!",
        "Is it?",
        "Yes.",
    ]


def _sentences(n: int, words: int = 15) -> str:
    return " ".join(
        f"Sentence {i} " + " ".join(f"w{i}x{j}" for j in range(words - 2)) + "." for i in range(n)
    )


def test_chunks_follow_headings_stay_bounded_and_overlap() -> None:
    blocks = [
        Block(("Leave", "Annual"), _sentences(12)),
        Block(("Leave", "Annual"), _sentences(12)),
        Block(("Leave", "Sick"), "Seven days with full pay."),
    ]
    chunks = chunk_blocks(blocks)
    annual = [c for c in chunks if c.heading_path == ("Leave", "Annual")]
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert len(annual) >= 2
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)
    # Every cut falls at a sentence end, and the next chunk repeats the last sentence(s).
    for first, second in itertools.pairwise(annual):
        assert first.text.endswith(".")
        tail = split_sentences(first.text)[-2:]
        opening = split_sentences(second.text)[: len(tail)]
        assert opening[-1] == tail[-1] or opening[0] == tail[-1]
        assert second.text.split(". ")[0] + "." in first.text
    # The short section is its own chunk: a chunk never spans two headings.
    assert chunks[-1].heading_path == ("Leave", "Sick")
    assert chunks[-1].text == "Seven days with full pay."
    assert chunks[-1].quote == "Seven days with full pay."


def test_a_long_sentence_without_stops_is_still_bounded() -> None:
    chunks = chunk_blocks([Block(("Table",), " ".join(f"cell{i}" for i in range(1000)))])
    assert len(chunks) > 1
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)
