"""Files to structured text: paragraphs under their heading path.

Markdown, plain text, PDF (pypdf) and DOCX (python-docx). Every refusal is an
`Invalid` with a stable code, raised before anything is written.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from hrcore.errors import Invalid

Kind = Literal["markdown", "text", "pdf", "docx"]

MIME_TYPES: dict[Kind, str] = {
    "markdown": "text/markdown",
    "text": "text/plain",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
EXTENSIONS: dict[str, Kind] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".pdf": "pdf",
    ".docx": "docx",
}
_MIME_KINDS: dict[str, Kind] = {mime: kind for kind, mime in MIME_TYPES.items()}
_MIME_KINDS["text/x-markdown"] = "markdown"
# Password-protected Office files are OLE compound files, not zip packages.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ATX = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_END_PUNCT = tuple(".,;:!?)\"'”’")


@dataclass(frozen=True, slots=True)
class Block:
    """One paragraph (or list, or table row group) and the headings above it."""

    heading_path: tuple[str, ...]
    text: str


def detect_kind(filename: str, content: bytes, mime: str | None = None) -> Kind:
    """The format of a file, from its first bytes, its extension, then its declared type."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    suffix = PurePath(filename).suffix.lower()
    if content.startswith(_OLE_MAGIC) and suffix in {".docx", ".doc"}:
        raise Invalid(
            f"{filename} is password-protected; upload it without a password.",
            code="encrypted_document",
        )
    # The declared type only counts for a name without an extension: browsers guess it.
    declared = _MIME_KINDS.get((mime or "").split(";")[0].strip().lower())
    kind = EXTENSIONS.get(suffix) if suffix else declared
    if kind is None:
        raise Invalid(
            f"{filename}: only Markdown, plain text, PDF and Word (.docx) files can be added.",
            code="unsupported_type",
        )
    if kind == "pdf":
        raise Invalid(f"{filename} is not a readable PDF file.", code="corrupt_document")
    return kind


def parse(filename: str, content: bytes, mime: str | None = None) -> tuple[Kind, list[Block]]:
    """Parse a file into blocks; refuse empty, image-only, encrypted or corrupt files."""
    if not content.strip():
        raise Invalid(f"{filename} is empty.", code="empty_document")
    kind = detect_kind(filename, content, mime)
    if kind == "pdf":
        blocks = _parse_pdf(filename, content)
    elif kind == "docx":
        blocks = _parse_docx(filename, content)
    else:
        text = _decode(filename, content)
        blocks = _parse_markdown(text) if kind == "markdown" else _parse_plain(text)
    blocks = [b for b in blocks if b.text.strip()]
    if not blocks:
        raise Invalid(f"{filename} has no text to search.", code="empty_document")
    return kind, blocks


def _decode(filename: str, content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise Invalid(f"{filename} is not a text file.", code="corrupt_document")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Windows editors save policies in cp1252; it decodes nearly any byte.
        try:
            return content.decode("cp1252")
        except UnicodeDecodeError:
            raise Invalid(f"{filename} is not UTF-8 text.", code="corrupt_document") from None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class _Outline:
    """The heading path so far: a heading of level n replaces levels n and below."""

    def __init__(self) -> None:
        self.levels: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> None:
        self.levels = [(lvl, t) for lvl, t in self.levels if lvl < level]
        self.levels.append((level, _clean(title)))

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.levels)


def _parse_markdown(text: str) -> list[Block]:
    outline = _Outline()
    blocks: list[Block] = []
    para: list[str] = []
    in_fence = False

    def flush() -> None:
        if para:
            blocks.append(Block(outline.path, _clean(" ".join(para))))
            para.clear()

    lines = text.splitlines()
    for i, raw in enumerate(lines):
        line = raw.rstrip()
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _ATX.match(line)
        if heading:
            flush()
            outline.enter(len(heading.group(1)), heading.group(2))
        elif (
            not in_fence
            and _SETEXT.match(line)
            and len(para) == 1
            and i > 0
            and lines[i - 1].strip()
        ):
            title = para.pop()
            outline.enter(1 if line.startswith("=") else 2, title)
        elif not line.strip():
            flush()
        elif re.match(r"^\s*([-*+]|\d+[.)])\s+", line) and para:
            # A list item starts a new line of its paragraph, so sentences do not run together.
            para.append(_end_sentence(para.pop()))
            para.append(re.sub(r"^\s*([-*+]|\d+[.)])\s+", "", line))
        else:
            para.append(re.sub(r"^\s*([-*+]|\d+[.)]|>)\s+", "", line))
    flush()
    return blocks


def _end_sentence(text: str) -> str:
    text = text.rstrip()
    return text if text.endswith(_END_PUNCT) else text + ";"


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    return (
        0 < len(words) <= 10
        and len(line) <= 90
        and not line.endswith(_END_PUNCT)
        and (line[0].isupper() or line[0].isdigit())
    )


def _parse_plain(text: str) -> list[Block]:
    if any(_ATX.match(line) for line in text.splitlines()):
        return _parse_markdown(text)
    outline = _Outline()
    blocks: list[Block] = []
    for para in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        if not lines:
            continue
        # A short line standing alone, without a full stop, is a section title.
        if len(lines) == 1 and _looks_like_heading(lines[0]):
            outline.enter(1, lines[0])
            continue
        if len(lines) > 1 and _looks_like_heading(lines[0]):
            outline.enter(1, lines[0])
            lines = lines[1:]
        blocks.append(Block(outline.path, _clean(" ".join(lines))))
    return blocks


def _parse_pdf(filename: str, content: bytes) -> list[Block]:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            # Files locked only against editing open with the empty password; others do not.
            try:
                opened = reader.decrypt("")
            except Exception:  # pypdf raises several types for unsupported ciphers
                opened = PasswordType.NOT_DECRYPTED
            if not opened:
                raise Invalid(
                    f"{filename} is password-protected; upload it without a password.",
                    code="encrypted_document",
                )
        pages = [page.extract_text() or "" for page in reader.pages]
    except Invalid:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise Invalid(f"{filename} is damaged or not a PDF file.", code="corrupt_document") from exc
    if not pages:
        raise Invalid(f"{filename} has no pages.", code="empty_document")
    if not any(p.strip() for p in pages):
        raise Invalid(
            f"{filename} has no text layer (a scanned image?); upload a text PDF or a Word file.",
            code="no_text_layer",
        )
    return _lines_to_blocks("\n".join(pages).splitlines())


def _lines_to_blocks(lines: list[str]) -> list[Block]:
    """PDF text has line breaks but no structure: recover headings and paragraphs."""
    outline = _Outline()
    blocks: list[Block] = []
    para: list[str] = []
    previous_ended = True

    def flush() -> None:
        if para:
            blocks.append(Block(outline.path, _clean(" ".join(para))))
            para.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            previous_ended = True
            continue
        numbered = re.match(r"^(\d+(?:\.\d+)*)\.?\s+(\S.*)$", line)
        if previous_ended and _looks_like_heading(line):
            flush()
            level = numbered.group(1).count(".") + 1 if numbered else 1
            outline.enter(level, line)
            previous_ended = True
            continue
        para.append(line)
        previous_ended = line.endswith(_END_PUNCT)
        if previous_ended:
            flush()
    flush()
    return blocks


def _parse_docx(filename: str, content: bytes) -> list[Block]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(content))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise Invalid(
            f"{filename} is damaged or not a Word (.docx) file.", code="corrupt_document"
        ) from exc
    outline = _Outline()
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = _clean(item.text)
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            level = _docx_heading_level(style)
            if level is not None:
                outline.enter(level, text)
            else:
                blocks.append(Block(outline.path, text))
        elif isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells = [_clean(cell.text) for cell in row.cells]
                if any(cells):
                    rows.append(" | ".join(cells) + ".")
            if rows:
                blocks.append(Block(outline.path, " ".join(rows)))
    return blocks


def _docx_heading_level(style: str) -> int | None:
    if style == "Title":
        return 0
    match = re.match(r"^Heading (\d)$", style)
    return int(match.group(1)) if match else None
