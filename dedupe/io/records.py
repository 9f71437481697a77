"""JSON Lines records: find one string field of each record and replace it.

A record is rewritten by splicing the new value over the old one in the line,
so every other field keeps its exact bytes (number spellings, escapes, spacing)
and its place in the key order; a record whose field did not change is written
back as it was read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dedupe.errors import InputError

_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"
_KINDS = {
    dict: "an object",
    list: "an array",
    int: "a number",
    float: "a number",
    bool: "true/false",
}


@dataclass(frozen=True, slots=True)
class FieldLine:
    """One line of a JSON Lines text whose ``field`` holds the string ``value``
    (not a document: that is :class:`dedupe.io.sources.Record`).

    ``line`` is the line as read, its terminator included; ``start``/``end``
    delimit the field's JSON string literal in it. ``number`` is 1-based.
    """

    number: int
    line: str
    start: int
    end: int
    value: str

    def replaced(self, value: str) -> str:
        """The line with the field set to ``value`` and every other byte kept."""
        if value == self.value:
            return self.line
        literal = json.dumps(value, ensure_ascii=False)
        if not literal.isascii() and not _encodable(literal):
            literal = json.dumps(value)  # lone surrogates can only be written escaped
        return self.line[: self.start] + literal + self.line[self.end :]


def replace_field(line: str, field: str, value: str) -> str:
    """``line`` (one JSON object, terminator included or not) with its
    top-level string ``field`` set to ``value`` and every other character kept.

    Raises ``ValueError`` when ``line`` is not one JSON object with that
    string field.
    """
    span = _field_span(line, field)
    if span is None:
        raise ValueError(f"no field {field!r}")
    start, end, old = span
    if not isinstance(old, str):
        raise ValueError(f"field {field!r} is not a string")
    return FieldLine(0, line, start, end, old).replaced(value)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def comparable(text: str) -> str:
    """``text`` with each lone surrogate (``"\\ud800"`` in scraped JSON, which
    UTF-8 cannot encode) replaced by U+FFFD, for comparison only: one
    character for one, so offsets into it are offsets into ``text``."""
    if text.isascii() or _LONE_SURROGATE.search(text) is None:
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)


def json_line(value: Any, *, indent: int | None = None) -> str:
    """``value`` as JSON text ending in a newline (one line unless
    ``indent``), non-ASCII text as it is unless it holds lone surrogates,
    which only escapes can write in UTF-8."""
    line = json.dumps(value, ensure_ascii=False, indent=indent)
    if not line.isascii() and not _encodable(line):
        line = json.dumps(value, indent=indent)
    return line + "\n"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _skip(line: str, i: int) -> int:
    while i < len(line) and line[i] in _SPACE:
        i += 1
    return i


def _field_span(line: str, field: str) -> tuple[int, int, object] | None:
    """Where the value of top-level key ``field`` lies in ``line``, and the value.

    Raises ``ValueError`` when ``line`` is not exactly one JSON object. Like
    :func:`json.loads`, the last of repeated keys wins.
    """
    # A byte-order mark (from Windows tools) may precede the first record.
    i = _skip(line, 1 if line.startswith("\ufeff") else 0)
    if not line.startswith("{", i):
        raise ValueError(f"expected '{{' at column {i + 1}")
    i = _skip(line, i + 1)
    found: tuple[int, int, object] | None = None
    if line.startswith("}", i):
        i += 1
    else:
        while True:
            if not line.startswith('"', i):
                raise ValueError(f"expected a key at column {i + 1}")
            key, i = _DECODER.raw_decode(line, i)
            i = _skip(line, i)
            if not line.startswith(":", i):
                raise ValueError(f"expected ':' at column {i + 1}")
            start = _skip(line, i + 1)
            value, i = _DECODER.raw_decode(line, start)
            if key == field:
                found = (start, i, value)
            i = _skip(line, i)
            if line.startswith("}", i):
                i += 1
                break
            if not line.startswith(",", i):
                raise ValueError(f"expected ',' or '}}' at column {i + 1}")
            i = _skip(line, i + 1)
    if _skip(line, i) != len(line):
        raise ValueError(f"extra data at column {i + 1}")
    return found


def _lines(text: str) -> Iterator[str]:
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def records(text: str, *, field: str, name: str) -> Iterator[FieldLine | str]:
    """Each line of ``text``: a :class:`FieldLine`, or a blank line as it is.

    Raises :class:`InputError` naming ``name`` and the line number for a line
    that is not one JSON object, lacks ``field``, or whose ``field`` is not a string.
    """
    for number, line in enumerate(_lines(text), start=1):
        if line.isspace():
            yield line
            continue
        try:
            span = _field_span(line, field)
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, json.JSONDecodeError):
                message = f"{exc.msg} at column {exc.colno}"
            elif isinstance(exc, RecursionError):
                message = "nested too deeply"
            else:
                message = str(exc)
            raise InputError(f"{name}:{number}: not a JSON object ({message})") from None
        if span is None:
            raise InputError(f"{name}:{number}: no {field!r} field")
        start, end, value = span
        if not isinstance(value, str):
            kind = _KINDS.get(type(value), "null")
            raise InputError(f"{name}:{number}: field {field!r} is {kind}, not a string")
        yield FieldLine(number, line, start, end, value)
