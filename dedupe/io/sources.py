"""Corpus inputs, streamed: JSON Lines (plain, gzip, zstd), a directory of
``.txt`` files, Parquet, or records a caller already holds.

A source can be read again from the start (the corpus stages read it a few
times rather than holding every text in memory). It yields a :class:`Record`
for every good record and a :class:`BadRecord` for every malformed one, with
the file and line it came from; what to do with bad records is the caller's
choice.

A source is also cut into :class:`Partition` s: small picklable pieces that
a worker process reads and parses itself. An uncompressed JSON Lines file is
cut into byte ranges (the cutting process reads each line once, to find
where the ranges end; only workers parse JSON); a compressed file, Parquet
batches and a caller's records travel as data.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol, runtime_checkable
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from dedupe.errors import InputError, OptionsError

DEFAULT_TEXT_FIELD = "text"
DEFAULT_PARTITION_RECORDS = 1024
_NOT_UTF8: Any = object()


class InputFormat(str, Enum):
    """``JSONL``: JSON Lines files, optionally gzip (``.gz``) or zstd (``.zst``)
    compressed; ``TEXT_DIR``: a directory of ``.txt`` files; ``PARQUET``:
    Parquet files; ``RECORDS``: mappings passed by a library caller;
    ``WARC``: WARC/WET files (:mod:`dedupe.io.warc`)."""

    JSONL = "jsonl"
    TEXT_DIR = "txt"
    PARQUET = "parquet"
    RECORDS = "records"
    WARC = "warc"


@dataclass(frozen=True, slots=True)
class Record:
    """One document. ``fields``: the parsed record (``None`` for a ``.txt``
    file); ``source``: index of the input file it came from; ``where``:
    ``file:line`` (or ``file:row n``) for messages."""

    id: str
    text: str
    fields: Mapping[str, Any] | None
    source: int
    where: str
    line: str | None = None
    """The JSON Lines line as read (terminator included), so that output can
    change the text field and keep every other byte; ``None`` elsewhere."""


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that cannot be used, and why (one line)."""

    where: str
    reason: str
    source: int

    @property
    def message(self) -> str:
        return f"{self.where}: {self.reason}"


Item = Record | BadRecord


@runtime_checkable
class Source(Protocol):
    """A corpus that can be read from the start any number of times.

    ``names``: for each input file, the relative path its output takes.
    """

    @property
    def format(self) -> InputFormat: ...

    @property
    def text_field(self) -> str: ...

    @property
    def names(self) -> tuple[str, ...]: ...

    @property
    def paths(self) -> tuple[Path | Url, ...]: ...

    def __iter__(self) -> Iterator[Item]: ...

    def partitions(self, size: int) -> Iterator[Partition]:
        """The source cut into partitions of about ``size`` records, in input
        order; the same cuts every time."""
        ...


@dataclass(frozen=True, slots=True)
class Url:
    """A JSON Lines input read through fsspec (``s3://bucket/key``,
    ``gs://...``, ``https://...``); needs fsspec and the filesystem's package."""

    url: str

    def __str__(self) -> str:
        return self.url

    @property
    def name(self) -> str:
        return PurePosixPath(urlsplit(self.url).path).name

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix

    def open(self) -> io.BufferedIOBase:
        """The bytes, decompressed as the suffix says (``.gz``, ``.zst``)."""
        try:
            import fsspec
        except ImportError:
            raise InputError(
                f"{self}: reading URLs needs fsspec (pip install 'dedupe-text[dask]')"
            ) from None
        try:
            # Closing the stream closes every layer under it (fsspec OpenFile.open).
            stream: io.BufferedIOBase = fsspec.open(self.url, "rb", compression="infer").open()
        except ValueError as exc:  # a compression fsspec cannot read here
            raise InputError(f"{self}: cannot open: {exc}") from None
        return stream

    def exists(self) -> bool:
        try:
            import fsspec
        except ImportError:
            raise InputError(
                f"{self}: reading URLs needs fsspec (pip install 'dedupe-text[dask]')"
            ) from None
        try:
            fs, path = fsspec.core.url_to_fs(self.url)
            return bool(fs.exists(path))
        except (ImportError, ValueError, OSError) as exc:
            raise InputError(f"{self}: cannot open: {exc}") from None


def _output_names(paths: Sequence[Path | Url]) -> tuple[str, ...]:
    """A distinct output file name for each input: its own name for the
    first input with that name, else ``<n>-<name>`` (``n``: its place among
    the inputs), prefixed again until no other output has it. Names are
    compared case-folded, as on a case-insensitive filesystem."""
    own = [path.name for path in paths]
    first: list[bool] = []
    taken: set[str] = set()
    for name in own:
        first.append(name.casefold() not in taken)
        taken.add(name.casefold())
    names: list[str] = []
    for i, name in enumerate(own):
        if not first[i]:
            # a/x.jsonl, b/x.jsonl: the second must neither overwrite the
            # first nor take the name of another input (2-x.jsonl).
            while name.casefold() in taken:
                name = f"{i}-{name}"
            taken.add(name.casefold())
        names.append(name)
    return tuple(names)


def _record(
    fields: Any,
    *,
    text_field: str,
    id_field: str | None,
    default_id: str,
    source: int,
    where: str,
    line: str | None = None,
) -> Item:
    if not isinstance(fields, Mapping):
        return BadRecord(where, f"not a JSON object but {type(fields).__name__}", source)
    if text_field not in fields:
        return BadRecord(where, f"no {text_field!r} field", source)
    text = fields[text_field]
    if not isinstance(text, str):
        return BadRecord(
            where, f"field {text_field!r} is {type(text).__name__}, not a string", source
        )
    if id_field is None:
        return Record(default_id, text, fields, source, where, line)
    value = fields.get(id_field)
    if value is None or isinstance(value, (dict, list)):
        return BadRecord(where, f"no usable {id_field!r} field for the id", source)
    return Record(str(value), text, fields, source, where, line)


_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_SKIPPABLE = range(0x184D2A50, 0x184D2A60)


def zstd_frames_fault(raw: BinaryIO) -> str | None:
    """What is wrong with the framing of the zstd file ``raw`` (seekable,
    read from the start), or ``None`` when it is whole frames end to end.

    Only frame and block headers are read (a few bytes per block of at most
    128 KiB). A truncated file passes the decompressor without an error
    (it yields what it could), so this is how a cut-off file is told apart
    from a complete one; damage inside a block is the decompressor's to find.
    """
    size = raw.seek(0, io.SEEK_END)
    offset = 0
    while offset < size:
        raw.seek(offset)
        head = raw.read(6)
        if len(head) < 4:
            return "truncated (the file ends inside a zstd frame header)"
        magic = int.from_bytes(head[:4], "little")
        if magic in _ZSTD_SKIPPABLE:
            if len(head) < 8 and len(head + raw.read(2)) < 8:
                return "truncated (the file ends inside a zstd frame header)"
            raw.seek(offset + 4)
            offset += 8 + int.from_bytes(raw.read(4), "little")
            if offset > size:
                return "truncated (the file ends inside a skippable zstd frame)"
            continue
        if magic != _ZSTD_MAGIC:
            if offset == 0:
                return "not zstd data"
            return f"not zstd data after byte {offset}"
        if len(head) < 5:
            return "truncated (the file ends inside a zstd frame header)"
        descriptor = head[4]
        single_segment = descriptor >> 5 & 1
        content_size = (single_segment, 2, 4, 8)[descriptor >> 6]
        dictionary = (0, 1, 2, 4)[descriptor & 3]
        offset += 5 + (not single_segment) + dictionary + content_size
        while True:
            raw.seek(offset)
            block = raw.read(3)
            if len(block) < 3:
                return "truncated (the file ends inside a zstd frame)"
            header = int.from_bytes(block, "little")
            kind = header >> 1 & 3
            if kind == 3:
                return f"corrupt zstd data (bad block at byte {offset})"
            offset += 3 + (1 if kind == 1 else header >> 3)
            if header & 1:
                break
        offset += 4 * (descriptor >> 2 & 1)  # the content checksum
        if offset > size:
            return "truncated (the file ends inside a zstd frame)"
    return None


class _CheckedStream(io.RawIOBase):
    """A decompressing stream whose decoder errors come out as ``OSError``
    (zlib and zstandard raise their own types)."""

    def __init__(self, inner: Any, errors: tuple[type[BaseException], ...]) -> None:
        self._inner = inner
        self._errors = errors

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            count: int = self._inner.readinto(buffer)
        except EOFError as exc:
            raise OSError(f"truncated ({exc})") from None
        except self._errors as exc:
            raise OSError(f"corrupt compressed data ({exc})") from None
        return count

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


def _open_binary(path: Path | Url) -> io.BufferedIOBase:
    """The bytes of ``path``, decompressed as its suffix says. A corrupt or
    truncated compressed file raises ``OSError`` (when opened, or where the
    damage is met), never ends early as if complete."""
    if isinstance(path, Url):
        stream = path.open()
        if _seekable(path):
            return stream  # LineRange seeks in it
        return io.BufferedReader(_CheckedStream(stream, _decoder_errors()))
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return io.BufferedReader(_CheckedStream(gzip.open(path, "rb"), _decoder_errors()))
    if suffix in {".zst", ".zstd"}:
        try:
            import zstandard
        except ImportError:
            raise InputError(
                f"{path}: reading zstd needs the zstandard package "
                "(pip install 'dedupe-text[zstd]')"
            ) from None
        raw = path.open("rb")
        try:
            fault = zstd_frames_fault(raw)
            raw.seek(0)
        except BaseException:
            raw.close()
            raise
        if fault is not None:
            raw.close()
            raise OSError(fault)
        # read_across_frames: a file of several frames (pzstd, cat a.zst
        # b.zst) is read to its end, not to the end of its first frame.
        reader = zstandard.ZstdDecompressor().stream_reader(
            raw, closefd=True, read_across_frames=True
        )
        return io.BufferedReader(_CheckedStream(reader, _decoder_errors()))
    return path.open("rb")


def _decoder_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [zlib.error, EOFError]
    try:
        import zstandard
    except ImportError:
        pass
    else:
        errors.append(zstandard.ZstdError)
    return tuple(errors)


# ---- partitions: pieces of a source that a worker reads itself ----


@dataclass(frozen=True, slots=True)
class JsonParser:
    """How a JSON Lines line becomes an item: the text field, and the id field
    (``None``: the id is ``<file>:<line number>``)."""

    text_field: str = DEFAULT_TEXT_FIELD
    id_field: str | None = None

    def item(self, line: bytes, *, label: str, number: int, source: int) -> Item | None:
        """The item of one line (terminator included), ``None`` for a blank line."""
        if not line.strip():
            return None
        where = f"{label}:{number}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return BadRecord(where, "not UTF-8", source)
        if "\x00" in text:
            # json.loads would take bytes of UTF-16 for text, and the output
            # (UTF-8, spliced into the line as read) would be garbage.
            return BadRecord(where, "NUL bytes (binary, or UTF-16/UTF-32), not UTF-8", source)
        try:
            # A byte order mark may precede the first record.
            fields = json.loads(text[1:] if text.startswith("\ufeff") else text)
        except json.JSONDecodeError as exc:
            return BadRecord(where, f"invalid JSON: {exc.msg}", source)
        except RecursionError:
            return BadRecord(where, "invalid JSON: nested too deeply", source)
        return _record(
            fields,
            text_field=self.text_field,
            id_field=self.id_field,
            default_id=where,
            source=source,
            where=where,
            line=text,
        )


@runtime_checkable
class Partition(Protocol):
    """A piece of a source, small and picklable, that any process can read.

    ``items()`` yields ``(position, item)`` in input order; a position is
    the item's place in the partition (a line, row or file, counted from 0)
    and picks it out again with :meth:`only`. ``holds_data``: the partition
    carries its records (so a list of partitions costs what the data costs)
    rather than saying where to read them.
    """

    @property
    def source(self) -> int: ...

    @property
    def holds_data(self) -> bool: ...

    def items(self) -> Iterator[tuple[int, Item]]: ...

    def only(self, positions: Sequence[int]) -> Partition: ...


@runtime_checkable
class SpanPartition(Protocol):
    """A partition whose records are byte ranges of one file, which an
    output can copy as they are."""

    @property
    def source(self) -> int: ...

    @property
    def path(self) -> Path | Url: ...

    def byte_spans(self) -> Iterator[tuple[int, int, int]]:
        """``(position, start, end)`` of each wanted record, in file offsets."""
        ...


@runtime_checkable
class SkipsRecords(Protocol):
    """A partition that met records which are not documents (WARC
    ``request``, ``metadata``...): how many of each kind."""

    @property
    def skipped(self) -> tuple[tuple[str, int], ...]: ...


@runtime_checkable
class LinePartition(Protocol):
    """A partition of JSON Lines that also gives its lines as read (the
    terminator included), unparsed."""

    def raw_lines(self) -> Iterator[tuple[int, bytes]]: ...


@dataclass(frozen=True, slots=True)
class LineRange:
    """Lines ``first_line``... of an uncompressed JSON Lines file: the bytes
    ``start`` to ``end``, read from the file (or URL) when the items are
    wanted. ``ends[k]``: where line ``k`` ends (its terminator included),
    counted from ``start``. ``wanted``: positions to read (``None``: every
    line)."""

    source: int
    path: Path | Url
    start: int
    end: int
    first_line: int
    parser: JsonParser
    ends: npt.NDArray[np.int64] = field(compare=False, repr=False)
    wanted: tuple[int, ...] | None = None

    @property
    def holds_data(self) -> bool:
        return False

    def _read(self) -> bytes:
        try:
            with _open_binary(self.path) as stream:
                stream.seek(self.start)
                data = stream.read(self.end - self.start)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        if len(data) != self.end - self.start:
            raise InputError(f"{self.path}: the file changed while it was being read")
        return data

    def spans(self) -> Iterator[tuple[int, int, int]]:
        """``(position, start, end)`` of each wanted line, in file offsets."""
        positions = range(len(self.ends)) if self.wanted is None else self.wanted
        ends = self.ends.tolist()
        for position in positions:
            first = ends[position - 1] if position else 0
            yield position, self.start + first, self.start + ends[position]

    def byte_spans(self) -> Iterator[tuple[int, int, int]]:
        return self.spans()

    def raw_lines(self) -> Iterator[tuple[int, bytes]]:
        """``(position, line)`` of the wanted lines, terminator included."""
        data = self._read()
        for position, start, end in self.spans():
            yield position, data[start - self.start : end - self.start]

    def items(self) -> Iterator[tuple[int, Item]]:
        for position, line in self.raw_lines():
            item = self.parser.item(
                line, label=str(self.path), number=self.first_line + position, source=self.source
            )
            if item is not None:
                yield position, item

    def only(self, positions: Sequence[int]) -> LineRange:
        return replace(self, wanted=tuple(positions))


@dataclass(frozen=True, slots=True)
class LineBlock:
    """Lines of a JSON Lines file carried as bytes (a compressed file, read
    in order by the process that splits it); ``positions[k]`` is the position
    of ``lines[k]``, line number ``first_line + positions[k]``."""

    source: int
    label: str
    first_line: int
    lines: tuple[bytes, ...]
    positions: tuple[int, ...]
    parser: JsonParser

    @property
    def holds_data(self) -> bool:
        return True

    def raw_lines(self) -> Iterator[tuple[int, bytes]]:
        """``(position, line)`` of each line, terminator included."""
        return zip(self.positions, self.lines, strict=True)

    def items(self) -> Iterator[tuple[int, Item]]:
        for position, line in zip(self.positions, self.lines, strict=True):
            item = self.parser.item(
                line, label=self.label, number=self.first_line + position, source=self.source
            )
            if item is not None:
                yield position, item

    def only(self, positions: Sequence[int]) -> LineBlock:
        at = {p: k for k, p in enumerate(self.positions)}
        return replace(
            self,
            lines=tuple(self.lines[at[p]] for p in positions),
            positions=tuple(positions),
        )


@dataclass(frozen=True, slots=True)
class TextFiles:
    """``.txt`` files under ``root`` by relative path (``/``-separated)."""

    root: Path
    names: tuple[str, ...]
    positions: tuple[int, ...]
    source: int = 0

    @property
    def holds_data(self) -> bool:
        return False

    def items(self) -> Iterator[tuple[int, Item]]:
        root = self.root.resolve()
        for position, name in zip(self.positions, self.names, strict=True):
            path = self.root / name
            if path.is_symlink() and root not in path.resolve().parents:
                # Never copy a file from elsewhere (/etc/passwd) into the output.
                reason = "a symbolic link out of the directory, not followed"
                yield position, BadRecord(str(path), reason, self.source)
                continue
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                yield position, BadRecord(str(path), "not UTF-8", self.source)
                continue
            except OSError as exc:
                raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
            yield position, Record(name, text, None, self.source, str(path))

    def only(self, positions: Sequence[int]) -> TextFiles:
        at = {p: k for k, p in enumerate(self.positions)}
        return replace(
            self, names=tuple(self.names[at[p]] for p in positions), positions=tuple(positions)
        )


def _row_items(
    rows: Iterable[Mapping[str, Any]],
    positions: Sequence[int],
    *,
    source: int,
    label: str | None,
    first_row: int,
    text_field: str,
    id_field: str | None,
) -> Iterator[tuple[int, Item]]:
    for position, fields in zip(positions, rows, strict=True):
        row = first_row + position
        if label is None:
            default_id, where = str(row), f"record {row}"
        else:
            default_id = where = f"{label}:row {row + 1}"
        if fields is _NOT_UTF8:
            yield position, BadRecord(where, "a string is not UTF-8", source)
            continue
        item = _record(
            fields,
            text_field=text_field,
            id_field=id_field,
            default_id=default_id,
            source=source,
            where=where,
        )
        yield position, item


@dataclass(frozen=True, slots=True)
class Rows:
    """A caller's records: rows ``first_row + positions[k]`` (0-based); the
    default id is the row number."""

    first_row: int
    rows: tuple[Mapping[str, Any], ...]
    positions: tuple[int, ...]
    text_field: str = DEFAULT_TEXT_FIELD
    id_field: str | None = None
    source: int = 0

    @property
    def holds_data(self) -> bool:
        return True

    def items(self) -> Iterator[tuple[int, Item]]:
        return _row_items(
            self.rows,
            self.positions,
            source=self.source,
            label=None,
            first_row=self.first_row,
            text_field=self.text_field,
            id_field=self.id_field,
        )

    def only(self, positions: Sequence[int]) -> Rows:
        at = {p: k for k, p in enumerate(self.positions)}
        return replace(
            self, rows=tuple(self.rows[at[p]] for p in positions), positions=tuple(positions)
        )


@dataclass(frozen=True, slots=True)
class ArrowRows:
    """Rows ``first_row + positions[k]`` (0-based) of a Parquet file, as an
    Arrow record batch (decoded to Python values only where it is read); the
    default id is ``<file>:row <n>`` (1-based)."""

    source: int
    label: str
    first_row: int
    batch: Any
    positions: tuple[int, ...]
    text_field: str = DEFAULT_TEXT_FIELD
    id_field: str | None = None

    @property
    def holds_data(self) -> bool:
        return True

    def _rows(self) -> list[Any]:
        try:
            rows: list[Any] = self.batch.to_pylist()
        except UnicodeDecodeError:
            # A damaged page can hold a string that is not UTF-8: only its
            # row is bad (a str marks it for _row_items).
            rows = []
            for k in range(self.batch.num_rows):
                try:
                    rows.extend(self.batch.slice(k, 1).to_pylist())
                except UnicodeDecodeError:
                    rows.append(_NOT_UTF8)
        return rows

    def items(self) -> Iterator[tuple[int, Item]]:
        return _row_items(
            self._rows(),
            self.positions,
            source=self.source,
            label=self.label,
            first_row=self.first_row,
            text_field=self.text_field,
            id_field=self.id_field,
        )

    def only(self, positions: Sequence[int]) -> ArrowRows:
        import pyarrow as pa

        at = {p: k for k, p in enumerate(self.positions)}
        rows = pa.array([at[p] for p in positions], type=pa.int64())
        return replace(self, batch=self.batch.take(rows), positions=tuple(positions))


# ---- sources ----


def _read_items(partitions: Iterable[Partition]) -> Iterator[Item]:
    for partition in partitions:
        for _, item in partition.items():
            yield item


def _seekable(path: Path | Url) -> bool:
    return path.suffix.lower() not in {".gz", ".zst", ".zstd"}


@dataclass(frozen=True, slots=True)
class JsonlSource:
    """JSON Lines files (local paths or :class:`Url`), one object a line.
    Blank lines are skipped; the default id is ``<file>:<line number>`` (the
    file as given)."""

    paths: tuple[Path | Url, ...]
    text_field: str = DEFAULT_TEXT_FIELD
    id_field: str | None = None
    format: InputFormat = InputFormat.JSONL

    @property
    def names(self) -> tuple[str, ...]:
        return _output_names(self.paths)

    def __iter__(self) -> Iterator[Item]:
        return _read_items(self.partitions(DEFAULT_PARTITION_RECORDS))

    def partitions(self, size: int) -> Iterator[Partition]:
        """Runs of ``size`` lines: ranges of an uncompressed file, which
        workers read themselves, or blocks of lines of a compressed one."""
        parser = JsonParser(self.text_field, self.id_field)
        for source, path in enumerate(self.paths):
            try:
                stream = _open_binary(path)
            except OSError as exc:
                raise InputError(f"{path}: cannot open: {exc.strerror or exc}") from None
            seekable = _seekable(path)
            offset, first = 0, 1
            with stream:
                try:
                    while lines := list(islice(stream, size)):
                        if first == 1:
                            _check_utf8_start(path, lines[0][:4])
                        count = len(lines)
                        if seekable:
                            ends = np.cumsum(np.fromiter(map(len, lines), np.int64, count))
                            end = offset + int(ends[-1])
                            yield LineRange(source, path, offset, end, first, parser, ends)
                            offset = end
                        else:
                            yield LineBlock(
                                source, str(path), first, tuple(lines), tuple(range(count)), parser
                            )
                        first += count
                except OSError as exc:
                    # A truncated or corrupt compressed stream: what follows
                    # the damage cannot be read, so the run stops (with
                    # --on-error skip too).
                    raise InputError(
                        f"{path}: cannot read past line {first - 1}: {exc.strerror or exc}"
                    ) from None


_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def _check_utf8_start(path: Path | Url, head: bytes) -> None:
    """Refuse a file that starts as UTF-16 or UTF-32 text: every record
    would be bad, so ``--on-error skip`` would leave nothing."""
    if head.startswith(_WIDE_BOMS) or b"\x00" in head:
        raise InputError(
            f"{path}: UTF-16 or UTF-32 text (or binary), not UTF-8; "
            "convert it first (iconv -f UTF-16 -t UTF-8)"
        )


@dataclass(frozen=True, slots=True)
class TextDirSource:
    """Every ``.txt`` file under a directory, in sorted path order, or the
    ``files`` given under it (``/``-separated paths relative to it, in the
    order given), one document each; the id is the path relative to the
    directory. Text is read as UTF-8 with line endings as they are."""

    root: Path
    format: InputFormat = InputFormat.TEXT_DIR
    text_field: str = DEFAULT_TEXT_FIELD
    files: tuple[str, ...] | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        if self.files is not None:
            return tuple(self.root / name for name in self.files)
        return (self.root,)

    @property
    def names(self) -> tuple[str, ...]:
        return (".",)

    def __iter__(self) -> Iterator[Item]:
        return _read_items(self.partitions(DEFAULT_PARTITION_RECORDS))

    def partitions(self, size: int) -> Iterator[Partition]:
        # rglob does not enter linked directories; a linked .txt file is
        # listed, and read only if it stays inside the directory (TextFiles).
        names = (
            list(self.files)
            if self.files is not None
            else [
                path.relative_to(self.root).as_posix()
                for path in sorted(self.root.rglob("*.txt"))
                if path.is_file()
            ]
        )
        for lo in range(0, len(names), size):
            chunk = tuple(names[lo : lo + size])
            yield TextFiles(self.root, chunk, tuple(range(len(chunk))))


@dataclass(frozen=True, slots=True)
class ParquetSource:
    """Parquet files (needs pyarrow), read a batch of rows at a time; the
    default id is ``<file>:row <n>`` (1-based)."""

    paths: tuple[Path, ...]
    text_field: str = DEFAULT_TEXT_FIELD
    id_field: str | None = None
    format: InputFormat = InputFormat.PARQUET

    @property
    def names(self) -> tuple[str, ...]:
        return _output_names(self.paths)

    def __iter__(self) -> Iterator[Item]:
        return _read_items(self.partitions(DEFAULT_PARTITION_RECORDS))

    def partitions(self, size: int) -> Iterator[Partition]:
        pq = parquet_module()
        for source, path in enumerate(self.paths):
            try:
                # Pages written with checksums are checked against them.
                reader = pq.ParquetFile(path, page_checksum_verification=True)
            except (OSError, ValueError) as exc:
                raise InputError(f"{path}: not a readable Parquet file: {exc}") from None
            first = 0
            batches = reader.iter_batches(batch_size=size)
            while True:
                try:
                    batch = next(batches, None)
                except (OSError, ValueError) as exc:
                    # A corrupt page: the rows after it cannot be read.
                    raise InputError(
                        f"{path}: cannot read past row {first}: {_one_line(exc)}"
                    ) from None
                if batch is None:
                    break
                yield ArrowRows(
                    source,
                    str(path),
                    first,
                    batch,
                    tuple(range(batch.num_rows)),
                    self.text_field,
                    self.id_field,
                )
                first += batch.num_rows


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


@dataclass(frozen=True, slots=True)
class RecordsSource:
    """Mappings held by a caller (a list, or anything iterable more than
    once); the default id is the record's 0-based position."""

    records: Iterable[Mapping[str, Any]]
    text_field: str = DEFAULT_TEXT_FIELD
    id_field: str | None = None
    format: InputFormat = InputFormat.RECORDS
    paths: tuple[Path, ...] = ()
    names: tuple[str, ...] = ("records.jsonl",)

    def __iter__(self) -> Iterator[Item]:
        return _read_items(self.partitions(DEFAULT_PARTITION_RECORDS))

    def partitions(self, size: int) -> Iterator[Partition]:
        records = iter(self.records)
        first = 0
        while rows := tuple(islice(records, size)):
            yield Rows(first, rows, tuple(range(len(rows))), self.text_field, self.id_field)
            first += len(rows)


def parquet_module() -> Any:
    """``pyarrow.parquet``, or an :class:`InputError` naming the extra to install."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "reading Parquet needs pyarrow (pip install 'dedupe-text[parquet]')"
        ) from None
    return pq


WARC_SUFFIXES = (".warc", ".wet")


def is_warc(name: str) -> bool:
    """Whether a file name says WARC or WET (``.warc``, ``.wet``, either with ``.gz``)."""
    return name.lower().removesuffix(".gz").endswith(WARC_SUFFIXES)


def _kind(path: Path | Url) -> InputFormat:
    if isinstance(path, Url):
        if path.name.lower().endswith(".parquet"):
            raise OptionsError(f"{path}: Parquet inputs must be local files")
        if is_warc(path.name):
            raise OptionsError(f"{path}: WARC/WET inputs must be local files")
        return InputFormat.JSONL
    if path.is_dir() or path.suffix.lower() == ".txt":
        return InputFormat.TEXT_DIR
    if is_warc(path.name):
        return InputFormat.WARC
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".parquet":
        return InputFormat.PARQUET
    return InputFormat.JSONL


def open_source(
    paths: Sequence[Path | str],
    *,
    text_field: str = DEFAULT_TEXT_FIELD,
    id_field: str | None = None,
) -> Source:
    """The source for input paths: one directory of ``.txt`` files, or
    ``.txt`` files (one document each), or JSON
    Lines files (``.gz``/``.zst`` compressed by suffix; local, or URLs such
    as ``s3://bucket/part-0.jsonl.gz`` read through fsspec), or ``.parquet``
    files, or local WARC/WET files (``.warc``, ``.wet``, with ``.gz``; the
    id is each record's target URI, so ``id_field`` must be ``None``).
    Formats cannot be mixed in one run."""
    if not paths:
        raise OptionsError("no input given")
    resolved = tuple(Url(p) if isinstance(p, str) and "://" in p else Path(p) for p in paths)
    seen: dict[tuple[int, int], Path] = {}
    for path in resolved:
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        if isinstance(path, Path):
            info = path.stat()
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                # A pipe (<(zcat x), a FIFO) can be read once only, and the
                # corpus is read several times, by several processes.
                raise InputError(
                    f"{path}: not a regular file (a pipe, socket or device); "
                    "write it to a file first"
                )
            same = seen.setdefault((info.st_dev, info.st_ino), path)
            if same is not path:
                raise InputError(f"{path}: the same file as {same}, given twice")
    kinds = {_kind(p) for p in resolved}
    if len(kinds) > 1:
        raise OptionsError(
            "inputs mix formats (JSON Lines, Parquet, WARC, .txt files or directories);"
            " give one kind"
        )
    kind = kinds.pop()
    local = tuple(p for p in resolved if isinstance(p, Path))
    if kind is InputFormat.TEXT_DIR:
        return _text_source(local, text_field)
    if kind is InputFormat.PARQUET:
        parquet_module()
        return ParquetSource(local, text_field=text_field, id_field=id_field)
    if kind is InputFormat.WARC:
        from dedupe.io.warc import WarcSource, fastwarc_module

        if id_field is not None:
            raise OptionsError("WARC/WET records take their target URI as the id; drop --id-field")
        fastwarc_module()
        return WarcSource(local, text_field=text_field)
    return JsonlSource(resolved, text_field=text_field, id_field=id_field)


def _text_source(paths: tuple[Path, ...], text_field: str) -> TextDirSource:
    """One directory of ``.txt`` files, or ``.txt`` files named one by one
    (ids relative to the directory they have in common)."""
    if any(p.is_dir() for p in paths):
        if len(paths) > 1:
            raise OptionsError("give one directory of .txt files, or .txt files, not several")
        return TextDirSource(paths[0], text_field=text_field)
    root = Path(os.path.commonpath([p.parent.absolute() for p in paths]))
    names = tuple(p.absolute().relative_to(root).as_posix() for p in paths)
    if len(paths) == 1 or all(p.parent == paths[0].parent for p in paths):
        # Named as given ("a.txt", not "/home/me/a.txt") when that is enough.
        root = paths[0].parent
    return TextDirSource(root, text_field=text_field, files=names)


def records_of(partition: Partition) -> list[Record]:
    """The records of a partition whose positions were all good records when
    first read; an :class:`InputError` if the input has changed since."""
    records: list[Record] = []
    for _, item in partition.items():
        if not isinstance(item, Record):
            raise InputError(f"{item.where}: the input changed while it was being read")
        records.append(item)
    return records
