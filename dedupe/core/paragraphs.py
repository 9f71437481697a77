"""Split text into paragraphs with exact character spans and line numbers.

A paragraph's span covers its text exactly (trailing spaces on its last line
included, the line terminator excluded), so cleaned output can be rebuilt from
the input by cutting whole paragraphs and leaving every kept byte as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from dedupe.errors import OptionsError

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_SENTENCE_END = (".", "!", "?", ":", "\u3002", "\uff01", "\uff1f", '"', "\u201d", "\u300d")


class ParagraphMode(str, Enum):
    """How text is cut into paragraphs.

    ``LINE``: every non-blank line is a paragraph (scraped text, one block per line).
    ``BLANK_LINE``: paragraphs are separated by blank lines (hard-wrapped prose).
    ``AUTO``: ``BLANK_LINE`` when the text has a block of several lines and
    every such block looks hard-wrapped, otherwise ``LINE``. The rule looks at
    each block on its own so that cleaning keeps it (see :func:`split`).
    """

    AUTO = "auto"
    LINE = "line"
    BLANK_LINE = "blank-line"


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph of the input.

    ``start``/``end`` are character offsets into the input (``end`` exclusive);
    ``line_start``/``line_end`` are 1-based and inclusive.
    """

    index: int
    start: int
    end: int
    line_start: int
    line_end: int
    text: str


@dataclass(frozen=True, slots=True)
class _Line:
    start: int
    end: int  # end of content, before the terminator
    number: int

    @property
    def blank(self) -> bool:
        return self.start == self.end


def _lines(text: str) -> list[_Line]:
    """The lines of ``text``: content spans without their terminators."""
    return _lines_lf(text) if "\r" not in text else _lines_any(text)


def _lines_lf(text: str) -> list[_Line]:
    # The common case, "\n" only: a split instead of a regex match per line.
    lines: list[_Line] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if start == len(text):
            break
        lines.append(_Line(start, start + len(line), number))
        start += len(line) + 1
    return lines


def _lines_any(text: str) -> list[_Line]:
    lines: list[_Line] = []
    for number, m in enumerate(_LINE.finditer(text), start=1):
        if m.start() == len(text) and m.end() == len(text):
            break
        chunk = m.group()
        content = chunk.rstrip("\r\n")
        lines.append(_Line(m.start(), m.start() + len(content), number))
    return lines


def _is_blank(text: str, line: _Line) -> bool:
    return line.blank or text[line.start : line.end].isspace()


def _blocks(text: str, lines: Sequence[_Line]) -> list[list[_Line]]:
    blocks: list[list[_Line]] = []
    current: list[_Line] = []
    for line in lines:
        if _is_blank(text, line):
            if current:
                blocks.append(current)
                current = []
        else:
            current.append(line)
    if current:
        blocks.append(current)
    return blocks


def _wrapped_block(text: str, block: Sequence[_Line]) -> bool:
    """True when the lines of a multi-line block look hard-wrapped.

    Hard-wrapped prose (e-mail, plain-text books) breaks lines inside
    paragraphs at a fixed width: most lines but the block's last one come
    close to the widest of them, that width is 30 to 100 characters, and those
    lines mostly stop mid-sentence, and no line comes twice. Scraped page text
    has ragged lines (menus, headings), one whole sentence or paragraph per
    line, or the same line repeated, and is not.
    """
    inner = block[:-1]
    if len({text[line.start : line.end].strip() for line in block}) < len(block):
        return False
    widths = [line.end - line.start for line in inner]
    width = max(widths)
    if width > 100 or width < 30:
        return False
    near_width = sum(1 for n in widths if n >= 0.7 * width)
    ends = sum(1 for line in inner if text[line.start : line.end].rstrip().endswith(_SENTENCE_END))
    # One sentence may end at a line break by chance, even in a short block.
    return near_width >= 0.6 * len(inner) and ends <= max(1, 0.3 * len(inner))


def _wrapped(text: str, blocks: Sequence[list[_Line]]) -> bool:
    """True when the text has a multi-line block and every one looks hard-wrapped.

    The rule looks at each block on its own, so that cleaning cannot flip it:
    cleaning in ``BLANK_LINE`` mode cuts whole blocks and leaves the others as
    they were, so its output is decided ``BLANK_LINE`` again, or has single-line
    blocks only, which both modes split alike. A whole-text statistic (share
    of lines in long blocks, one width for the text) could flip when blocks
    are cut, and the output, split by lines, would lose more on a second run.
    """
    multi = [b for b in blocks if len(b) > 1]
    return bool(multi) and all(_wrapped_block(text, b) for b in multi)


def _mode(mode: ParagraphMode | str) -> ParagraphMode:
    try:
        return ParagraphMode(mode)
    except ValueError:
        choices = ", ".join(m.value for m in ParagraphMode)
        raise OptionsError(f"paragraph mode must be one of {choices}, not {mode!r}") from None


def split_paragraphs(
    text: str, *, mode: ParagraphMode | str = ParagraphMode.AUTO
) -> tuple[Paragraph, ...]:
    """Cut ``text`` into paragraphs; whitespace-only lines only ever separate them."""
    return split(text, mode=mode)[1]


def split(
    text: str, *, mode: ParagraphMode | str = ParagraphMode.AUTO
) -> tuple[ParagraphMode, tuple[Paragraph, ...]]:
    """The concrete mode for ``text`` and its paragraphs in that mode.

    ``AUTO`` is decided so that cleaning twice gives what cleaning once gave:
    cutting whole blocks from a text split by blocks leaves blocks that are
    each as they were, so the output is split by blocks again (or has no block
    of several lines, which both modes split alike). Cutting lines can leave
    a text that is split by blocks; :func:`dedupe.clean` then cuts its
    repeated blocks in the same run.
    """
    chosen = _mode(mode)
    lines = _lines(text)
    if chosen is ParagraphMode.LINE:
        groups: Iterable[list[_Line]] = ([line] for line in lines if not _is_blank(text, line))
    else:
        blocks = _blocks(text, lines)
        if chosen is ParagraphMode.AUTO:
            chosen = ParagraphMode.BLANK_LINE if _wrapped(text, blocks) else ParagraphMode.LINE
        # The blocks hold the non-blank lines in order: no second look at each.
        groups = blocks if chosen is ParagraphMode.BLANK_LINE else ([x] for b in blocks for x in b)
    out: list[Paragraph] = []
    for group in groups:
        first, last = group[0], group[-1]
        out.append(
            Paragraph(
                index=len(out),
                start=first.start,
                end=last.end,
                line_start=first.number,
                line_end=last.number,
                text=text[first.start : last.end],
            )
        )
    return chosen, tuple(out)


def auto_mode(text: str) -> ParagraphMode:
    """The mode ``AUTO`` chooses for ``text``: ``split(text)[0]``, without
    building the paragraphs."""
    wrapped = _wrapped(text, _blocks(text, _lines(text)))
    return ParagraphMode.BLANK_LINE if wrapped else ParagraphMode.LINE


def lines_of_blocks(
    text: str, blocks: Sequence[Paragraph], names: Sequence[int]
) -> list[tuple[int, ...]]:
    """For each of ``blocks`` (paragraphs of ``text`` split by blank lines), the
    names of the lines it is made of, where ``names[k]`` names the ``k``-th
    non-blank line of ``text``."""
    nonblank = (line for line in _lines(text) if not _is_blank(text, line))
    ordinal = {line.number: k for k, line in enumerate(nonblank)}
    return [
        tuple(names[ordinal[n]] for n in range(b.line_start, b.line_end + 1) if n in ordinal)
        for b in blocks
    ]


def join_kept(text: str, paragraphs: Sequence[Paragraph], removed: Iterable[int]) -> str:
    """``text`` with the paragraphs whose indexes are in ``removed`` cut out.

    Each kept paragraph keeps the separator that followed it. When the tail of
    the text is cut, the last kept paragraph takes the text's own ending
    instead (so a text without a final newline still has none).
    """
    gone = set(removed)
    if not gone:
        return text
    kept = [p for p in paragraphs if p.index not in gone]
    if not kept:
        return ""
    pieces = [text[: paragraphs[0].start]] if paragraphs else []
    for p in kept:
        following = p.index + 1
        if following < len(paragraphs):
            pieces.append(text[p.start : paragraphs[following].start])
        else:
            pieces.append(text[p.start :])
    last = kept[-1]
    if last.index != paragraphs[-1].index:
        pieces[-1] = text[last.start : last.end] + text[paragraphs[-1].end :]
    return "".join(pieces)
