"""Corpus inputs, streamed: JSON Lines (plain, gzip, zstd), a directory of
``.txt`` files, Parquet, or records a caller already holds.

A source can be read again from the start (the corpus stages read it a few
times rather than holding every text in memory). It yields a :class:`Record`
for every good record and a :class:`BadRecord` for every malformed one, with
the file and line it came from; what to do with bad records is the caller's
choice.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from dedupe.errors import InputError, OptionsError

DEFAULT_TEXT_FIELD = "text"
_PARQUET_BATCH = 1024


class InputFormat(str, Enum):
    """``JSONL``: JSON Lines files, optionally gzip (``.gz``) or zstd (``.zst``)
    compressed; ``TEXT_DIR``: a directory of ``.txt`` files; ``PARQUET``:
    Parquet files; ``RECORDS``: mappings passed by a library caller."""

    JSONL = "jsonl"
    TEXT_DIR = "txt"
    PARQUET = "parquet"
    RECORDS = "records"


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
    names: list[str] = []
    for i, path in enumerate(paths):
        name = path.name
        # Two inputs with one file name (a/x.jsonl, b/x.jsonl) must not share an output.
        names.append(name if name not in names else f"{i}-{name}")
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


def _open_binary(path: Path | Url) -> io.BufferedIOBase:
    if isinstance(path, Url):
        return path.open()
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rb")
    if suffix in {".zst", ".zstd"}:
        try:
            import zstandard
        except ImportError:
            raise InputError(
                f"{path}: reading zstd needs the zstandard package "
                "(pip install 'dedupe-text[zstd]')"
            ) from None
        raw = path.open("rb")
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))
    return path.open("rb")


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
        for source, path in enumerate(self.paths):
            yield from self._read(source, path)

    def _read(self, source: int, path: Path | Url) -> Iterator[Item]:
        try:
            stream = _open_binary(path)
        except OSError as exc:
            raise InputError(f"{path}: cannot open: {exc.strerror or exc}") from None
        with stream:
            try:
                for number, line in enumerate(stream, start=1):
                    if not line.strip():
                        continue
                    where = f"{path}:{number}"
                    try:
                        fields = json.loads(line)
                    except UnicodeDecodeError:
                        yield BadRecord(where, "not UTF-8", source)
                        continue
                    except json.JSONDecodeError as exc:
                        yield BadRecord(where, f"invalid JSON: {exc.msg}", source)
                        continue
                    yield _record(
                        fields,
                        text_field=self.text_field,
                        id_field=self.id_field,
                        default_id=where,
                        source=source,
                        where=where,
                        line=line.decode("utf-8"),
                    )
            except (OSError, EOFError) as exc:
                # A truncated or corrupt compressed stream.
                raise InputError(f"{path}: cannot read: {exc}") from None


@dataclass(frozen=True, slots=True)
class TextDirSource:
    """Every ``.txt`` file under a directory, in sorted path order; the id is
    the path relative to the directory (with ``/``). Text is read as UTF-8
    with line endings as they are."""

    root: Path
    format: InputFormat = InputFormat.TEXT_DIR
    text_field: str = DEFAULT_TEXT_FIELD

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.root,)

    @property
    def names(self) -> tuple[str, ...]:
        return (".",)

    def __iter__(self) -> Iterator[Item]:
        for path in sorted(self.root.rglob("*.txt")):
            if not path.is_file():
                continue
            rel = path.relative_to(self.root).as_posix()
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                yield BadRecord(str(path), "not UTF-8", 0)
                continue
            except OSError as exc:
                raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
            yield Record(rel, text, None, 0, str(path))


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
        pq = parquet_module()
        for source, path in enumerate(self.paths):
            try:
                reader = pq.ParquetFile(path)
            except (OSError, ValueError) as exc:
                raise InputError(f"{path}: not a readable Parquet file: {exc}") from None
            row = 0
            for batch in reader.iter_batches(batch_size=_PARQUET_BATCH):
                for fields in batch.to_pylist():
                    row += 1
                    where = f"{path}:row {row}"
                    yield _record(
                        fields,
                        text_field=self.text_field,
                        id_field=self.id_field,
                        default_id=where,
                        source=source,
                        where=where,
                    )


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
        for position, fields in enumerate(self.records):
            yield _record(
                fields,
                text_field=self.text_field,
                id_field=self.id_field,
                default_id=str(position),
                source=0,
                where=f"record {position}",
            )


def parquet_module() -> Any:
    """``pyarrow.parquet``, or an :class:`InputError` naming the extra to install."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "reading Parquet needs pyarrow (pip install 'dedupe-text[parquet]')"
        ) from None
    return pq


def _kind(path: Path | Url) -> InputFormat:
    if isinstance(path, Url):
        if path.name.lower().endswith(".parquet"):
            raise OptionsError(f"{path}: Parquet inputs must be local files")
        return InputFormat.JSONL
    if path.is_dir():
        return InputFormat.TEXT_DIR
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
    """The source for input paths: one directory of ``.txt`` files, or JSON
    Lines files (``.gz``/``.zst`` compressed by suffix; local, or URLs such
    as ``s3://bucket/part-0.jsonl.gz`` read through fsspec), or ``.parquet``
    files. Formats cannot be mixed in one run."""
    if not paths:
        raise OptionsError("no input given")
    resolved = tuple(Url(p) if isinstance(p, str) and "://" in p else Path(p) for p in paths)
    for path in resolved:
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
    kinds = {_kind(p) for p in resolved}
    if len(kinds) > 1:
        raise OptionsError("inputs mix formats (JSON Lines, Parquet, directories); give one kind")
    kind = kinds.pop()
    local = tuple(p for p in resolved if isinstance(p, Path))
    if kind is InputFormat.TEXT_DIR:
        if len(local) > 1:
            raise OptionsError("give one directory of .txt files, not several")
        return TextDirSource(local[0], text_field=text_field)
    if kind is InputFormat.PARQUET:
        parquet_module()
        return ParquetSource(local, text_field=text_field, id_field=id_field)
    return JsonlSource(resolved, text_field=text_field, id_field=id_field)
