"""Renderings of a :class:`~dedupe.cleaning.pipeline.CleanResult`: text, unified diff, JSON, HTML.

Every ``format_*`` function is pure: it takes results and the name of their
source and returns a string; nothing here prints, and nothing recomputes a
decision. Reports on several sources combine by concatenation (text, diff,
JSON Lines), except HTML, where :func:`format_html` takes them all at once.

In the text report a near-duplicate is followed by a word diff from its kept
twin to it: ``[-word-]`` is only in the twin, ``{+word+}`` only in the
removed paragraph. The HTML page shows each removed paragraph beside its
twin, words only in the removed copy and words only in the twin marked apart.
Words are those of the comparison keys: a BOM or other format character is
none, and scripts written without spaces are compared by characters. The
JSON schema is documented in ``docs/report-json.md``.
"""

from __future__ import annotations

import difflib
import html
import io
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from enum import Enum
from typing import Any

from dedupe.cleaning.pipeline import CleanResult, KeptBecause, Removal, RepeatedBlock
from dedupe.core.normalize import UNSPACED_RANGES
from dedupe.core.paragraphs import Paragraph
from dedupe.core.verify import Method

SCHEMA = "dedupe.clean/1"
EXCERPT_CHARS = 64
DIFF_CONTEXT_WORDS = 3
DIFF_CONTEXT_LINES = 3

_UNSPACED = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in UNSPACED_RANGES)
# A word, or one character of a script written without spaces (as keys are tokenised).
_WORD = re.compile(f"[{_UNSPACED}]|[^\\s{_UNSPACED}]+")

# A run of report text and its rich style ("" for none).
Piece = tuple[str, str]


def _range(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}-{end}"


def _lines_label(start: int, end: int) -> str:
    return f"{'line' if start == end else 'lines'} {_range(start, end)}"


def _paragraph_label(p: Paragraph) -> str:
    return _lines_label(p.line_start, p.line_end)


def _twins_label(twins: Iterable[Paragraph]) -> str:
    return " + ".join(_paragraph_label(t) for t in twins)


# Why the twin stayed, as the reports say it.
_KEPT = {
    KeptBecause.ARTICLE: "it reads as the article, this copy sits in a link, list or markup",
    KeptBecause.HOLDS: "it holds every word of this copy",
    KeptBecause.FIRST: "the first of equal copies",
    KeptBecause.LONGEST: "the longest copy",
    KeptBecause.SITE: "nothing: site boilerplate",
}


def _method_label(r: Removal) -> str:
    return f"{r.method.value} in block" if r.in_block else r.method.value


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _printable(text: str) -> str:
    """``text`` with control characters (terminal escapes included) made spaces."""
    return "".join(" " if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in text)


def _excerpt(text: str) -> str:
    flat = " ".join(_printable(text).split())
    if len(flat) <= EXCERPT_CHARS:
        return flat
    return flat[: EXCERPT_CHARS - 1].rstrip() + "\u2026"


def _summary(result: CleanResult) -> str:
    paragraphs = _plural(len(result.paragraphs), "paragraph")
    if not result.removed:
        return f"nothing removed ({paragraphs})"
    return (
        f"removed {len(result.removed):,} of {paragraphs}, "
        f"{result.chars_removed:,} of {_plural(len(result.original), 'character')}"
    )


def _block_removals(result: CleanResult) -> dict[int, list[Removal]]:
    by_block: dict[int, list[Removal]] = {b.number: [] for b in result.blocks}
    for r in result.removed:
        if r.block:
            by_block[r.block].append(r)
    return by_block


def _block_parts(block: RepeatedBlock, removals: Sequence[Removal]) -> tuple[str, str, str, str]:
    """Where the block is, its verb, where its twins are, and what it holds:
    ``("lines 13-23", "repeat", "lines 2-12", "11 paragraphs, exact")``."""
    where = _lines_label(block.line_start, block.line_end)
    verb = "repeats" if block.line_start == block.line_end else "repeat"
    twins = _lines_label(block.twin_line_start, block.twin_line_end)
    kinds = Counter(_method_label(r) for r in removals)
    count = _plural(len(block.paragraphs), "paragraph")
    if len(kinds) == 1:
        detail = f"{count}, {next(iter(kinds))}"
    else:
        detail = f"{count}: " + ", ".join(f"{n} {label}" for label, n in kinds.items())
    return where, verb, twins, detail


@dataclass(frozen=True, slots=True)
class _Token:
    """A word of a paragraph (a character in scripts written without spaces),
    as word diffs compare and show it."""

    text: str
    """Printable, with invisible format characters (a BOM, a zero-width space) dropped."""
    start: int
    end: int
    """Its span in the paragraph; a BOM or a soft hyphen may lie inside it."""
    spaced: bool
    """Whitespace comes before it."""


def _is_invisible(c: str) -> bool:
    return unicodedata.category(c) == "Cf"


def _tokens(text: str) -> list[_Token]:
    """The words of ``text``; a BOM or other format character alone is no word."""
    # Control characters become spaces one for one, so spans stay those of ``text``.
    printable = _printable(text)
    out: list[_Token] = []
    for m in _WORD.finditer(printable):
        shown = "".join(c for c in m.group() if not _is_invisible(c))
        if shown:
            spaced = m.start() > 0 and printable[m.start() - 1].isspace()
            out.append(_Token(shown, m.start(), m.end(), spaced))
    return out


def _joined(tokens: Sequence[_Token]) -> str:
    return "".join((" " if t.spaced and n else "") + t.text for n, t in enumerate(tokens))


def _shared(tokens: Sequence[_Token], *, first: bool, last: bool) -> str:
    """A run of words both texts share, cut to the few next to each change."""
    head = [] if first else list(tokens[:DIFF_CONTEXT_WORDS])
    tail = [] if last else list(tokens[-DIFF_CONTEXT_WORDS:])
    if len(tokens) - len(head) - len(tail) <= 1:
        return _joined(tokens)
    return f"{_joined(head)} \u2026 {_joined(tail)}".strip()


def _twin_tokens(twins: Iterable[str]) -> list[_Token]:
    """The words of several twins, one after the other, as one text."""
    out: list[_Token] = []
    for text in twins:
        tokens = _tokens(text)
        if out and tokens:
            tokens[0] = replace(tokens[0], spaced=True)
        out += tokens
    return out


def _word_diff(kept: Sequence[str], removed: str) -> list[Piece]:
    """Words only in the ``kept`` twin(s) as ``[-...-]``, words only in
    ``removed`` as ``{+...+}``, between shortened runs of shared words; empty
    if the words agree. Format characters such as a BOM are no words."""
    a, b = _twin_tokens(kept), _tokens(removed)
    ops = difflib.SequenceMatcher(
        None, [t.text for t in a], [t.text for t in b], autojunk=False
    ).get_opcodes()
    if all(tag == "equal" for tag, *_ in ops):
        return []
    pieces: list[Piece] = []
    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            shared = _shared(a[i1:i2], first=n == 0, last=n == len(ops) - 1)
            pieces.append((shared + " ", ""))
        if tag in ("delete", "replace"):
            pieces.append((f"[-{_joined(a[i1:i2])}-] ", "bold red"))
        if tag in ("insert", "replace"):
            pieces.append((f"{{+{_joined(b[j1:j2])}+}} ", "bold green"))
    text, style = pieces[-1]
    pieces[-1] = (text.rstrip(), style)
    return pieces


def _near_diff(r: Removal) -> list[Piece]:
    """The word diff of a near-duplicate against its twin(s); empty for other methods."""
    if r.method is not Method.NEAR:
        return []
    return _word_diff([t.text for t in r.twins], r.paragraph.text)


def _text_pieces(result: CleanResult, source: str) -> list[Piece]:
    source = _printable(source)
    if not result.removed:
        return [(f"{source}: {_summary(result)}\n", "")]
    rows = {
        r.paragraph.index: (_paragraph_label(r.paragraph), _twins_label(r.twins), _method_label(r))
        for r in result.removed
    }
    # Boilerplate rows have no twin or method column: they do not widen those.
    in_blocks = [rows[r.paragraph.index] for r in result.removed if r.block]
    widths = [
        max(len(row[0]) for row in rows.values()),
        *(max((len(row[k]) for row in in_blocks), default=0) for k in (1, 2)),
    ]
    pieces: list[Piece] = [(f"{source}\n", "bold")]
    by_block = _block_removals(result)
    for block in result.blocks:
        removals = by_block[block.number]
        where, verb, twins, detail = _block_parts(block, removals)
        pieces += [
            (f"block {block.number}: ", "bold"),
            (where, "red"),
            (f" {verb} ", ""),
            (twins, "green"),
            (f" ({detail})\n", ""),
        ]
        for r in removals:
            lines, twin_lines, label = rows[r.paragraph.index]
            # "line 13 repeats ...", "lines 9-11 repeat ...", verbs in one column.
            verb = "repeats" if r.paragraph.line_start == r.paragraph.line_end else "repeat "
            pieces += [
                (f"  {lines:<{widths[0]}}", "red"),
                (f" {verb} ", ""),
                (f"{twin_lines:<{widths[1]}}", "green"),
                (f"  {label:<{widths[2]}}", "magenta"),
                (f"  {r.similarity:.4f}  ", "yellow"),
                (_excerpt(r.paragraph.text), "dim"),
                ("\n", ""),
            ]
            diff = _near_diff(r)
            if diff:
                pieces += [("    ", ""), *diff, ("\n", "")]
            if r.kept_because is not KeptBecause.FIRST:
                pieces.append((f"    kept {twin_lines.strip()}: {_KEPT[r.kept_because]}\n", "dim"))
    boilerplate = [r for r in result.removed if r.method is Method.BOILERPLATE]
    if boilerplate:
        pieces.append(("site boilerplate:\n", "bold"))
    for r in boilerplate:
        pieces += [
            (f"  {rows[r.paragraph.index][0]:<{widths[0]}}", "red"),
            (f"  on {r.similarity:>4.0%} of the site's documents  ", "yellow"),
            (_excerpt(r.paragraph.text), "dim"),
            ("\n", ""),
        ]
    pieces.append((f"{_summary(result)}\n", "bold"))
    return pieces


def format_text(result: CleanResult, source: str, *, color: bool = False) -> str:
    """The human report: each repeated block, each removed paragraph with its
    line numbers, twin, method, score, excerpt and (near-duplicates) word diff,
    then a summary line; one line when nothing was removed.

    ``color``: add terminal styles (ANSI escapes, through rich); leave it off
    unless the text goes to a terminal. The words are the same either way.
    """
    pieces = _text_pieces(result, source)
    if not color:
        return "".join(text for text, _ in pieces)
    # rich takes tens of milliseconds to import; only a terminal needs it.
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, soft_wrap=True, highlight=False)
    console.print(Text.assemble(*pieces), end="")
    return buffer.getvalue()


def _split_lines(text: str) -> list[str]:
    """Lines as ``patch`` sees them: cut after each ``\\n`` only, ends kept."""
    lines = text.split("\n")
    last = lines.pop()
    return [line + "\n" for line in lines] + ([last] if last else [])


def _kept_spans(result: CleanResult) -> list[tuple[int, int]] | None:
    """The spans of the original that make up the cleaned text, in order, cut
    as :func:`dedupe.core.paragraphs.join_kept` cuts them (each kept paragraph
    with the separator after it; the text's own ending after the last one);
    ``None`` if they do not give ``result.text``."""
    original, paragraphs = result.original, result.paragraphs
    gone = {r.paragraph.index for r in result.removed}
    kept = [n for n, p in enumerate(paragraphs) if p.index not in gone]
    spans: list[tuple[int, int]] = []
    if kept:
        spans.append((0, paragraphs[0].start))
        for n in kept:
            after = paragraphs[n + 1].start if n + 1 < len(paragraphs) else len(original)
            spans.append((paragraphs[n].start, after))
        if kept[-1] != len(paragraphs) - 1:
            spans[-1] = (paragraphs[kept[-1]].start, paragraphs[kept[-1]].end)
            spans.append((paragraphs[-1].end, len(original)))
    if not gone:
        spans = [(0, len(original))]
    if "".join(original[a:b] for a, b in spans) != result.text:
        return None
    return spans


# A diff operation as difflib names them: tag, then old and new line ranges.
Opcode = tuple[str, int, int, int, int]


def _line_opcodes(result: CleanResult, old: list[str], new: list[str]) -> list[Opcode]:
    """Line operations from the original to the cleaned text that delete what
    the removals cut: a line stays equal only where the cleaned text holds it
    at the same place, so the copy that was removed is the one deleted even
    when its twin reads the same."""
    spans = _kept_spans(result)
    if spans is None:
        # Never expected; a diff that patch applies still beats none.
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        return [(t, i1, i2, j1, j2) for t, i1, i2, j1, j2 in matcher.get_opcodes()]
    line_at: dict[int, int] = {}
    offset = 0
    for i, line in enumerate(old):
        line_at[offset] = i
        offset += len(line)
    # Each cleaned-text offset maps into the original through its span.
    starts: list[tuple[int, int, int]] = []  # (cleaned start, cleaned end, original start)
    out = 0
    for a, b in spans:
        starts.append((out, out + b - a, a))
        out += b - a
    matches: list[tuple[int, int]] = []
    out = 0
    k = 0
    for j, line in enumerate(new):
        while starts[k][1] <= out:
            k += 1
        lo, _, origin = starts[k]
        # Its start is the start of an original line of the same text: that
        # line kept (its ending may come from the end of the text, after a cut tail).
        at = line_at.get(origin + out - lo)
        if at is not None and old[at] == line:
            matches.append((at, j))
        out += len(line)
    ops: list[Opcode] = []
    i = j = 0
    for mi, mj in [*matches, (len(old), len(new))]:
        if i < mi or j < mj:
            tag = "replace" if i < mi and j < mj else "delete" if i < mi else "insert"
            ops.append((tag, i, mi, j, mj))
        if mi < len(old):
            ops.append(("equal", mi, mi + 1, mj, mj + 1))
        i, j = mi + 1, mj + 1
    return ops


def _hunks(ops: list[Opcode], context: int) -> list[list[Opcode]]:
    """The changes in ``ops`` (whose equal operations are one line each) with
    ``context`` equal lines around them, in hunks split where more than twice
    that many equal lines lie between two changes, as diff(1) splits them."""
    changed = [n for n, op in enumerate(ops) if op[0] != "equal"]
    groups: list[list[int]] = []
    for n in changed:
        if groups and n - groups[-1][1] - 1 <= 2 * context:
            groups[-1][1] = n
        else:
            groups.append([n, n])
    return [ops[max(0, first - context) : last + context + 1] for first, last in groups]


def _unified_range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"


def format_diff(result: CleanResult, source: str) -> str:
    """A unified diff from the original to the cleaned text, ``a/SOURCE`` to
    ``b/SOURCE``, that ``patch -p1`` applies; empty when nothing was removed.

    The lines deleted are those of the removed paragraphs (the same line
    numbers the other reports give), never an equal-looking twin. CR
    characters stay part of their lines; a missing final newline is marked
    ``\\ No newline at end of file`` as diff(1) does.
    """
    old, new = _split_lines(result.original), _split_lines(result.text)
    hunks = _hunks(_line_opcodes(result, old, new), DIFF_CONTEXT_LINES)
    if not hunks:
        return ""
    # Like git, end a name that holds spaces with a tab, so patch reads all of it.
    end = "\t" if any(c.isspace() for c in source) else ""
    out = [f"--- a/{source}{end}\n", f"+++ b/{source}{end}\n"]
    for hunk in hunks:
        i1, j1, i2, j2 = hunk[0][1], hunk[0][3], hunk[-1][2], hunk[-1][4]
        out.append(f"@@ -{_unified_range(i1, i2)} +{_unified_range(j1, j2)} @@\n")
        for tag, a1, a2, b1, b2 in hunk:
            lines = (
                [" " + line for line in old[a1:a2]]
                if tag == "equal"
                else ["-" + line for line in old[a1:a2]] + ["+" + line for line in new[b1:b2]]
            )
            for line in lines:
                out.append(line)
                if not line.endswith("\n"):
                    out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def _paragraph_ref(p: Paragraph) -> dict[str, int]:
    return {"paragraph": p.index, "line_start": p.line_start, "line_end": p.line_end}


def report_data(result: CleanResult, source: str) -> dict[str, Any]:
    """The JSON report as Python data (schema ``dedupe.clean/1``, in
    ``docs/report-json.md``); keys in a fixed order."""
    options = result.options
    return {
        "schema": SCHEMA,
        "source": source,
        "options": {f.name: _plain(getattr(options, f.name)) for f in fields(options)},
        "mode": result.mode.value,
        "counts": {
            "paragraphs": len(result.paragraphs),
            "removed": len(result.removed),
            "chars_in": len(result.original),
            "chars_out": len(result.text),
            "chars_removed": result.chars_removed,
        },
        "blocks": [
            {
                "number": b.number,
                "lines": [b.line_start, b.line_end],
                "twin_lines": [b.twin_line_start, b.twin_line_end],
                "paragraphs": len(b.paragraphs),
                "removed": [p.index for p in b.paragraphs],
            }
            for b in result.blocks
        ],
        "removed": [
            {
                **_paragraph_ref(r.paragraph),
                "start": r.paragraph.start,
                "end": r.paragraph.end,
                "twins": [_paragraph_ref(t) for t in r.twins],
                "method": r.method.value,
                "similarity": round(r.similarity, 4),
                "in_block": r.in_block,
                "block": r.block,
                "kept_because": r.kept_because.value,
                "text": r.paragraph.text,
            }
            for r in result.removed
        ],
    }


def format_json(result: CleanResult, source: str) -> str:
    """:func:`report_data` as one line of JSON (a JSON Lines record), newline included."""
    return json.dumps(report_data(result, source), ensure_ascii=False) + "\n"


_CSS = """
:root { --copy: #a4262c; --copy-bg: #fbeeee; --copy-mark: #f4b9b5;
  --twin: #1d6b3a; --twin-bg: #eef7f0; --twin-mark: #a9dcb8; --line: #d0d7de; --muted: #5b636b; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
  margin: 0 auto; max-width: 88em; padding: 0 1.5em 4em; }
h1 { font-size: 1.4em; margin: 0.8em 0 0.2em; }
.totals { margin: 0 0 0.8em; color: var(--muted); }
table.files { border-collapse: collapse; margin-bottom: 1em; font-variant-numeric: tabular-nums; }
table.files th, table.files td { padding: 0.2em 0.8em; border-bottom: 1px solid var(--line); }
table.files th { text-align: left; font-weight: 600; }
table.files td.n { text-align: right; }
table.files tr.clean td { color: var(--muted); }
.bar { position: sticky; top: 0; z-index: 2; background: #fff; border-bottom: 1px solid var(--line);
  padding: 0.5em 0; display: flex; flex-wrap: wrap; gap: 0.6em 2em; align-items: center; }
.bar label { font-weight: 600; cursor: pointer; }
.legend { display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; color: var(--muted); }
.legend .swatch { display: inline-block; padding: 0 0.4em; border-radius: 3px; }
section.file { scroll-margin-top: 4em; margin-top: 1.2em; }
summary { cursor: pointer; padding: 0.3em 0; border-bottom: 1px solid var(--line); }
summary h2 { display: inline; font-size: 1.15em; margin: 0 0.6em 0 0; overflow-wrap: anywhere; }
summary .count { color: var(--muted); }
ol.blocks { margin: 0.6em 0; }
.p { display: flex; gap: 1em; padding: 0.2em 0.4em; border-radius: 4px; scroll-margin-top: 4em; }
.p:target { outline: 2px solid #e3b341; }
.ln { flex: 0 0 4.5em; color: var(--muted); text-align: right; font-variant-numeric: tabular-nums; }
.body { flex: 1; min-width: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.note { display: block; font-size: 0.85em; color: var(--muted); white-space: normal; }
.removed { margin: 0.5em 0; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 0.8em; }
.pair.alone { grid-template-columns: 1fr; }
.side { border-radius: 4px; padding: 0.35em 0.6em; min-width: 0; }
.side .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.copy { background: var(--copy-bg); border-left: 4px solid var(--copy); }
.twin { background: var(--twin-bg); border-left: 4px solid var(--twin); }
.side h3 { font-size: 0.8em; font-weight: 600; margin: 0 0 0.2em; text-transform: uppercase;
  letter-spacing: 0.03em; }
.copy h3 { color: var(--copy); } .twin h3 { color: var(--twin); }
.twin h3 a { color: inherit; }
.same { font-weight: normal; text-transform: none; color: var(--muted); }
.same::before { content: "\\00b7  "; }
del { text-decoration: none; }
mark { color: inherit; border-radius: 2px; padding: 0 1px; }
mark.only-copy { background: var(--copy-mark); }
mark.only-twin { background: var(--twin-mark); }
.why { font-size: 0.85em; color: var(--muted); margin: 0.25em 0 0; }
@media (max-width: 50em) { .pair { grid-template-columns: 1fr; } }
body:has(#only-removed:checked) .p.kept,
body:has(#only-removed:checked) section.file.clean { display: none; }
""".strip()


def _anchor(section: int, p: Paragraph) -> str:
    return f"s{section}-p{p.index}"


def _link(section: int, p: Paragraph, label: str) -> str:
    return f'<a href="#{_anchor(section, p)}">{html.escape(label)}</a>'


def _word_marks(copy: Sequence[_Token], twins: Sequence[_Token]) -> tuple[set[int], set[int]]:
    """The indexes of the words only in the removed copy, and of those only in its twin(s)."""
    ops = difflib.SequenceMatcher(
        None, [t.text for t in copy], [t.text for t in twins], autojunk=False
    ).get_opcodes()
    only_copy = {i for tag, i1, i2, _, _ in ops if tag != "equal" for i in range(i1, i2)}
    only_twin = {j for tag, _, _, j1, j2 in ops if tag != "equal" for j in range(j1, j2)}
    return only_copy, only_twin


def _marked(text: str, tokens: Sequence[_Token], marked: set[int], css: str) -> str:
    """``text`` escaped, each run of consecutive ``marked`` tokens (the spaces
    between them included) in one ``<mark class="css">``."""
    out: list[str] = []
    at = 0
    n = 0
    while n < len(tokens):
        if n not in marked:
            n += 1
            continue
        last = n
        while last + 1 < len(tokens) and last + 1 in marked:
            last += 1
        start, end = tokens[n].start, tokens[last].end
        out += [html.escape(text[at:start]), f'<mark class="{css}">', html.escape(text[start:end])]
        out.append("</mark>")
        at, n = end, last + 1
    out.append(html.escape(text[at:]))
    return "".join(out)


def _html_pair(section: int, removal: Removal) -> str:
    """The removed copy beside its kept twin(s), the words that differ marked."""
    p = removal.paragraph
    copy_tokens = _tokens(p.text)
    twin_tokens = [_tokens(t.text) for t in removal.twins]
    only_copy, only_twin = _word_marks(copy_tokens, [t for ts in twin_tokens for t in ts])
    copy = (
        f'<div class="side copy"><h3>removed copy, {html.escape(_paragraph_label(p))}</h3>'
        f'<div class="text"><del>{_marked(p.text, copy_tokens, only_copy, "only-copy")}</del>'
        "</div></div>"
    )
    if not removal.twins:
        return f'<div class="pair alone">{copy}</div>'
    same = "" if only_copy or only_twin else ' <span class="same">same words</span>'
    twins: list[str] = []
    offset = 0
    for twin, tokens in zip(removal.twins, twin_tokens, strict=True):
        mine = {j - offset for j in only_twin if offset <= j < offset + len(tokens)}
        offset += len(tokens)
        label = _link(section, twin, _paragraph_label(twin))
        twins.append(
            f"<h3>kept twin, {label}{same}</h3>"
            f'<div class="text">{_marked(twin.text, tokens, mine, "only-twin")}</div>'
        )
    return f'<div class="pair">{copy}<div class="side twin">{"".join(twins)}</div></div>'


def _why(removal: Removal) -> str:
    if removal.method is Method.BOILERPLATE:
        return (
            f"site boilerplate: on {removal.similarity:.0%} of the site's indexed documents; "
            "no copy is kept"
        )
    twins = _twins_label(removal.twins)
    return (
        f"{_method_label(removal)}, similarity {removal.similarity:.4f}. "
        f"Kept {twins} because: {_KEPT[removal.kept_because]}."
    )


def _file_counts(result: CleanResult) -> list[str]:
    return [
        f"{len(result.removed):,}",
        f"{len(result.paragraphs):,}",
        f"{result.chars_removed:,}",
    ]


def _html_section(section: int, source: str, result: CleanResult) -> list[str]:
    removal_of = {r.paragraph.index: r for r in result.removed}
    copies: dict[int, list[Paragraph]] = {}
    for r in result.removed:
        for t in r.twins:
            copies.setdefault(t.index, []).append(r.paragraph)
    state = "" if result.removed else " clean"
    out = [
        f'<section class="file{state}" id="s{section}">',
        f"<details{' open' if result.removed else ''}>",
        f'<summary><h2>{html.escape(source)}</h2><span class="count">'
        f"{html.escape(_summary(result))}</span></summary>",
    ]
    if result.blocks:
        out.append('<ol class="blocks">')
        for block, removals in zip(result.blocks, _block_removals(result).values(), strict=True):
            where, verb, twins, detail = _block_parts(block, removals)
            out.append(
                f"<li>{_link(section, block.paragraphs[0], where)} {verb} "
                f"{_link(section, min(block.twins, key=lambda t: t.index), twins)} "
                f"({html.escape(detail)})</li>"
            )
        out.append("</ol>")
    out.append('<div class="paragraphs">')
    for p in result.paragraphs:
        lines = _range(p.line_start, p.line_end)
        removal = removal_of.get(p.index)
        if removal is not None:
            out.append(
                f'<div class="p removed" id="{_anchor(section, p)}"><span class="ln">{lines}</span>'
                f'<div class="body" dir="auto">{_html_pair(section, removal)}'
                f'<p class="why">{html.escape(_why(removal))}</p></div></div>'
            )
            continue
        body = html.escape(p.text)
        if p.index in copies:
            again = ", ".join(_link(section, c, _paragraph_label(c)) for c in copies[p.index])
            body += f'<span class="note">kept; removed copy at {again}</span>'
        out.append(
            f'<div class="p kept" id="{_anchor(section, p)}"><span class="ln">{lines}</span>'
            f'<div class="body" dir="auto">{body}</div></div>'
        )
    out += ["</div>", "</details>", "</section>"]
    return out


def _html_index(results: Sequence[tuple[str, CleanResult]]) -> list[str]:
    """The totals line and a table of the files, each linked to its section."""
    removed = sum(len(r.removed) for _, r in results)
    paragraphs = sum(len(r.paragraphs) for _, r in results)
    chars = sum(r.chars_removed for _, r in results)
    total = sum(len(r.original) for _, r in results)
    out = [
        f'<p class="totals">{_plural(len(results), "file")}; removed {removed:,} of '
        f"{_plural(paragraphs, 'paragraph')}, {chars:,} of {_plural(total, 'character')}</p>",
        '<table class="files"><thead><tr><th scope="col">file</th>'
        '<th scope="col">removed</th><th scope="col">paragraphs</th>'
        '<th scope="col">characters removed</th></tr></thead><tbody>',
    ]
    for n, (source, result) in enumerate(results, start=1):
        cells = "".join(f'<td class="n">{c}</td>' for c in _file_counts(result))
        state = "" if result.removed else ' class="clean"'
        out.append(f'<tr{state}><td><a href="#s{n}">{html.escape(source)}</a></td>{cells}</tr>')
    out.append("</tbody></table>")
    return out


_BAR = """
<div class="bar">
<label><input type="checkbox" id="only-removed"> Show only what was removed</label>
<span class="legend">
<span><span class="swatch copy">removed copy</span> beside its
<span class="swatch twin">kept twin</span></span>
<span><mark class="only-copy">words</mark> only in the removed copy</span>
<span><mark class="only-twin">words</mark> only in the kept twin</span>
</span>
</div>
""".strip()


def format_html(results: Sequence[tuple[str, CleanResult]]) -> str:
    """One self-contained HTML page for ``(source, result)`` pairs: inline CSS,
    no script and no link or resource outside the page.

    At the top, the totals and a table of the files (linked, with counts), a
    legend and a "show only what was removed" switch (CSS only). Each file
    follows in full, folded when nothing was removed; each removed paragraph
    is shown beside its kept twin(s) with the words only in either marked, and
    why the twin stayed. Every piece of input text is escaped; words of
    scripts written without spaces are diffed character by character.
    """
    body = [
        line for n, (src, res) in enumerate(results, start=1) for line in _html_section(n, src, res)
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>dedupe clean report</title>",
            f"<style>\n{_CSS}\n</style>",
            "</head>",
            "<body>",
            "<h1>dedupe clean report</h1>",
            *_html_index(results),
            _BAR,
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )
