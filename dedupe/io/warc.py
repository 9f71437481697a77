"""WARC and WET inputs (web crawls): each document is one WARC record.

A WET ``conversion`` record is a document as it is (its block is the page's
text); a WARC ``response`` record whose HTTP ``Content-Type`` is HTML is one
through the ``html`` extra (:func:`dedupe.cleaning.html.extract_text`).
Every other record (``warcinfo``, ``request``, ``metadata``, ``revisit``, a
response that is not HTML) is skipped and counted by kind. The document's id
and ``url`` are its ``WARC-Target-URI``, so boilerplate is learned per host;
a URI seen again in the same run gets the record's ``WARC-Record-ID``
appended, because ids must be unique.

Files are read with fastwarc (``warc`` extra), which walks a crawl about four
times faster than warcio. fastwarc stops quietly at a truncated gzip member,
so the byte range of each record is checked here: every record of a
``.gz`` file must be exactly one whole gzip member (as crawlers write them),
and a record that is not (truncated, corrupt, followed by stray bytes) is a
:class:`~dedupe.io.sources.BadRecord`. Since records are whole members, the
output can copy the kept ones byte for byte (:class:`dedupe.io.sinks.WarcWriter`).
"""

from __future__ import annotations

import codecs
import functools
import io
import itertools
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xxhash import xxh3_64_intdigest

from dedupe.errors import InputError, OptionsError
from dedupe.io.sources import (
    DEFAULT_TEXT_FIELD,
    WARC_SUFFIXES,
    BadRecord,
    InputFormat,
    Item,
    Partition,
    Record,
    _output_names,
)

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def jsonl_name(name: str) -> str:
    """The JSON Lines output name of a WARC/WET input name:
    ``CC-MAIN-x.warc.wet.gz`` -> ``CC-MAIN-x.jsonl.gz``."""
    gz = name.lower().endswith(".gz")
    stem = name[:-3] if gz else name
    while stem.lower().endswith(WARC_SUFFIXES):
        stem = stem[: stem.rfind(".")]
    return stem + (".jsonl.gz" if gz else ".jsonl")


def fastwarc_module() -> Any:
    """``fastwarc.warc``, or an :class:`InputError` naming the extra to install."""
    try:
        import fastwarc.warc
    except ImportError:
        raise InputError("reading WARC needs fastwarc (pip install 'dedupe-text[warc]')") from None
    return fastwarc.warc


def _one_member(raw: bytes) -> bytes | str:
    """The decompressed bytes of ``raw`` if it is exactly one gzip member,
    else why not."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(raw)
    except zlib.error as exc:
        return f"corrupt gzip data ({exc})"
    if not inflater.eof:
        return "truncated gzip member (the file ends inside this record)"
    if inflater.unused_data:
        return f"{len(inflater.unused_data):,} stray bytes after the record's gzip member"
    return data


def _charset(name: str | None) -> str:
    if name:
        try:
            return codecs.lookup(name).name
        except LookupError:
            pass  # a charset Python does not know: UTF-8 is the web's default
    return "utf-8"


@dataclass(frozen=True, slots=True)
class WarcRange:
    """Records of one local WARC/WET file, by byte range, read by the worker
    that gets the partition. ``spans[k]``: ``(position, start, end)``;
    ``repeats``: positions whose target URI came earlier in the run;
    ``skipped``: records that are not documents, by kind, met while cutting
    this partition (counted in the read pass)."""

    source: int
    path: Path
    spans: tuple[tuple[int, int, int], ...]
    gzipped: bool
    text_field: str = DEFAULT_TEXT_FIELD
    repeats: frozenset[int] = frozenset()
    skipped: tuple[tuple[str, int], ...] = ()

    @property
    def holds_data(self) -> bool:
        return False

    def byte_spans(self) -> Iterator[tuple[int, int, int]]:
        """``(position, start, end)`` of each record, in file offsets."""
        return iter(self.spans)

    def items(self) -> Iterator[tuple[int, Item]]:
        if not self.spans:
            return
        lo, hi = self.spans[0][1], self.spans[-1][2]
        try:
            with self.path.open("rb") as file:
                file.seek(lo)
                data = file.read(hi - lo)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        if len(data) != hi - lo:
            raise InputError(f"{self.path}: the file changed while it was being read")
        warc = fastwarc_module()
        for position, start, end in self.spans:
            raw = data[start - lo : end - lo]
            yield position, self._item(warc, raw, position, start, end)

    def _item(self, warc: Any, raw: bytes, position: int, start: int, end: int) -> Item:
        where = f"{self.path}:byte {start}"
        block = _one_member(raw) if self.gzipped else raw
        if isinstance(block, str):
            return BadRecord(where, block, self.source)
        head_end = block.find(b"\r\n\r\n")
        records = iter(warc.ArchiveIterator(io.BytesIO(block), parse_http=True))
        record = next(records, None)
        if head_end < 0 or record is None:
            return BadRecord(where, "not a WARC record (a broken header?)", self.source)
        # The record is valid only until the iterator moves on.
        kind = str(record.record_type)
        uri = record.headers.get("WARC-Target-URI")
        record_id = record.headers.get("WARC-Record-ID") or ""
        date = record.headers.get("WARC-Date") or ""
        length = record.content_length
        body: bytes = record.reader.read()
        charset = record.http_charset if record.is_http else None
        encoding = record.http_headers.get("Content-Encoding") if record.is_http else None
        if next(records, None) is not None:
            return BadRecord(where, "two WARC records where one was expected", self.source)
        if head_end + 4 + length > len(block):
            reason = "truncated WARC record (shorter than its Content-Length)"
            return BadRecord(where, reason, self.source)
        if not uri:
            return BadRecord(where, "no WARC-Target-URI", self.source)
        if kind == "conversion":
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return BadRecord(where, "text not UTF-8", self.source)
        else:
            encoding = (encoding or "identity").lower()
            if encoding != "identity":
                reason = f"HTTP body compressed ({encoding}), not supported"
                return BadRecord(where, reason, self.source)
            from dedupe.cleaning.html import extract_text

            html = body.decode(_charset(charset), errors="replace")
            try:
                _, text = extract_text(html)
            except InputError as exc:
                return BadRecord(where, str(exc), self.source)
        doc_id = f"{uri} {record_id}" if position in self.repeats else uri
        fields = {
            "id": doc_id,
            "url": uri,
            "warc_type": kind,
            "warc_record_id": record_id,
            "warc_date": date,
            self.text_field: text,
        }
        return Record(doc_id, text, fields, self.source, where)

    def only(self, positions: Sequence[int]) -> WarcRange:
        wanted = set(positions)
        return replace(self, spans=tuple(s for s in self.spans if s[0] in wanted), skipped=())


@dataclass(frozen=True, slots=True)
class WarcSource:
    """Local WARC/WET files, gzipped per record or uncompressed (see the
    module docstring). ``text_field``: the field the text takes in JSON
    Lines output."""

    paths: tuple[Path, ...]
    text_field: str = DEFAULT_TEXT_FIELD
    format: InputFormat = InputFormat.WARC

    @property
    def names(self) -> tuple[str, ...]:
        return _output_names(self.paths)

    @property
    def jsonl_names(self) -> tuple[str, ...]:
        """Output names when the kept records are written as JSON Lines."""
        return _output_names([Path(jsonl_name(name)) for name in self.names])

    def __iter__(self) -> Iterator[Item]:
        for partition in self.partitions(1024):
            for _, item in partition.items():
                yield item

    def partitions(self, size: int) -> Iterator[Partition]:
        """Runs of ``size`` documents. The records' headers are read here
        (to find where each record starts and which are documents); bodies
        are read by the workers."""
        seen: set[int] = set()
        for source, path in enumerate(self.paths):
            scan = _scan(path, seen)
            yield from scan.cut(source, path, self.text_field, size)


@dataclass(slots=True)
class _Scan:
    """The records of one file: byte ranges, whether each is a document,
    its kind, and which documents repeat a target URI seen before."""

    gzipped: bool
    starts: list[int]
    ends: list[int]
    documents: list[bool]
    kinds: list[str]
    repeats: set[int]

    def cut(self, source: int, path: Path, text_field: str, size: int) -> Iterator[WarcRange]:
        spans: list[tuple[int, int, int]] = []
        skipped: Counter[str] = Counter()
        repeats: set[int] = set()

        def partition() -> WarcRange:
            kinds = tuple(sorted(skipped.items()))
            return WarcRange(
                source, path, tuple(spans), self.gzipped, text_field, frozenset(repeats), kinds
            )

        for k, (start, end) in enumerate(zip(self.starts, self.ends, strict=True)):
            if not self.documents[k]:
                skipped[self.kinds[k]] += 1
                continue
            if k in self.repeats:
                repeats.add(len(spans))
            spans.append((len(spans), start, end))
            if len(spans) == size:
                yield partition()
                spans, skipped, repeats = [], Counter(), set()
        if spans or skipped:
            yield partition()


def _scan(path: Path, seen: set[int]) -> _Scan:
    """Read the headers of every record of ``path``; ``seen``: hashes of the
    target URIs of documents met so far in the run (updated)."""
    warc = fastwarc_module()
    scan = _Scan(path.suffix.lower() == ".gz", [], [], [], [], set())
    try:
        with path.open("rb") as file:
            for record in warc.ArchiveIterator(file, parse_http=True):
                kind = str(record.record_type)
                document = kind == "conversion"
                if kind == "response":
                    document = bool(record.is_http and record.http_content_type in _HTML_TYPES)
                    if document:
                        _check_extractor()
                    else:
                        kind = "response (not HTML)"
                if document:
                    uri = record.headers.get("WARC-Target-URI") or ""
                    key = xxh3_64_intdigest(uri.encode("utf-8", "surrogatepass"))
                    if key in seen:
                        scan.repeats.add(len(scan.starts))
                    seen.add(key)
                scan.starts.append(int(record.stream_pos))
                scan.documents.append(document)
                scan.kinds.append(kind)
            size = file.seek(0, io.SEEK_END)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    starts = scan.starts
    if any(b <= a for a, b in itertools.pairwise(starts)):
        raise InputError(
            f"{path}: not gzipped record by record (one gzip stream holds "
            "several records); recompress it with one gzip member per record"
        )
    if size and not starts:
        raise InputError(f"{path}: not a WARC file (no WARC record found)")
    scan.ends = [*starts[1:], size]
    if scan.gzipped and starts:
        # fastwarc ends quietly at a damaged tail: whatever follows the last
        # record's member becomes a record of its own, which reads as bad.
        tail = _split_tail(path, starts[-1], size)
        if tail is not None:
            scan.ends[-1] = tail
            starts.append(tail)
            scan.ends.append(size)
            scan.documents.append(True)
            scan.kinds.append("damaged")
    return scan


def _split_tail(path: Path, start: int, end: int) -> int | None:
    """Where the gzip member at ``start`` ends when more bytes follow it
    before ``end``; ``None`` when it runs to ``end``, or is itself damaged
    (then the record reads as bad)."""
    inflater = zlib.decompressobj(wbits=31)
    offset = start
    with path.open("rb") as file:
        file.seek(start)
        while chunk := file.read(1 << 20):
            try:
                inflater.decompress(chunk)
            except zlib.error:
                return None
            offset += len(chunk)
            if inflater.eof:
                member_end = offset - len(inflater.unused_data)
                return member_end if member_end < end else None
    return None


@functools.cache
def _check_extractor() -> None:
    from dedupe.cleaning.html import resolve_extractor

    try:
        resolve_extractor()
    except OptionsError as exc:
        raise OptionsError(f"WARC response records hold HTML: {exc}") from None
