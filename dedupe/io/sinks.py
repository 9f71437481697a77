"""The deduplicated corpus, written in its input's format.

JSON Lines records are written back unchanged but for the cleaned text field
(same file names, same compression); ``.txt`` files keep their relative paths
and every kept byte; Parquet files keep their schema; WARC/WET records are
copied byte for byte (each its own gzip member), or written as JSON Lines.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from io import BufferedReader, BufferedWriter
from pathlib import Path
from typing import Any, Protocol

from dedupe.errors import OptionsError, OutputError
from dedupe.io.records import json_line, replace_field
from dedupe.io.sources import InputFormat, Record, Source, parquet_module
from dedupe.params import PARQUET_BATCH_ROWS


class KeptRecords(Protocol):
    """The kept records of a corpus run, in the forms a writer may take them
    (:class:`dedupe.corpus.result.CorpusResult`); a writer takes one form,
    once."""

    def documents(self) -> Iterator[tuple[Record, str]]:
        """Each kept record with its cleaned text."""
        ...

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Output lines made by :func:`render_line`, with their input file."""
        ...

    def copies_lines(self) -> bool:
        """Whether :meth:`kept_runs` may stand for the output lines."""
        ...

    def kept_runs(self) -> Iterator[tuple[int, Path, int, int]]:
        """Runs of whole input records ``(input file, path, start, end)``."""
        ...


class CorpusWriter(Protocol):
    """Writes the kept records of a run in input order; each writer takes
    them in the form its format needs."""

    def write_all(self, kept: KeptRecords) -> None: ...

    def close(self) -> None: ...


class _ByteSink(Protocol):
    def write(self, data: bytes, /) -> int: ...

    def close(self) -> None: ...


def _open_compressed(path: Path) -> _ByteSink:
    # "x": an output file is never opened twice, so no input's records can
    # replace another's.
    suffix = path.suffix.lower()
    if suffix == ".gz":
        # mtime=0: the same input gives byte-identical output.
        return gzip.GzipFile(path, "xb", mtime=0)
    if suffix in {".zst", ".zstd"}:
        import zstandard

        raw = path.open("xb")
        writer: _ByteSink = zstandard.ZstdCompressor().stream_writer(raw, closefd=True)
        return writer
    return path.open("xb")


def render_line(record: Record, text: str, text_field: str) -> bytes:
    """The output JSON Lines line of ``record`` with ``text`` in ``text_field``."""
    if record.line is not None:
        # Splice the new text into the line as read: other fields keep
        # their spelling (numbers, escapes, key order, spacing).
        line = record.line if text == record.text else replace_field(record.line, text_field, text)
        line = line if line.endswith("\n") else line + "\n"
    else:
        fields = dict(record.fields or {})
        fields[text_field] = text
        line = json_line(fields)
    # A line as read was valid UTF-8; lone surrogates (text from a caller,
    # or spliced in) are written as JSON escapes by replace_field/json_line.
    return line.encode("utf-8")


class JsonlWriter:
    """One output file per input file, compressed as the input was."""

    def __init__(self, out_dir: Path, names: tuple[str, ...], text_field: str) -> None:
        self._text_field = text_field
        self._files = [_open_compressed(out_dir / name) for name in names]
        self._inputs: dict[Path, BufferedReader] = {}

    def write_all(self, kept: KeptRecords) -> None:
        """Input lines copied as they are when no stage changed them, else
        the rendered lines of the kept records."""
        if kept.copies_lines():
            for number, path, start, end in kept.kept_runs():
                self.copy_lines(number, path, start, end)
        else:
            for number, lines in kept.lines():
                self.write_rendered(number, lines)

    def write(self, record: Record, text: str) -> None:
        self._files[record.source].write(render_line(record, text, self._text_field))

    def write_rendered(self, source: int, lines: bytes) -> None:
        """Lines made by :func:`render_line` for input file ``source``."""
        self._files[source].write(lines)

    def copy_lines(self, source: int, path: Path, start: int, end: int) -> None:
        """Bytes ``start`` to ``end`` of the uncompressed input ``path``
        (whole lines) as they are, a terminator added to a last line without
        one; the output of ``source`` must be uncompressed too."""
        out = self._files[source]
        if not isinstance(out, BufferedWriter):
            raise TypeError("lines are copied into uncompressed outputs only")
        if path not in self._inputs:
            self._inputs[path] = path.open("rb")
        fd = self._inputs[path].fileno()
        out.flush()
        _copy_range(fd, out.fileno(), start, end)
        if end > start and os.pread(fd, 1, end - 1) != b"\n":
            out.write(b"\n")

    def close(self) -> None:
        for file in self._files:
            file.close()
        for source in self._inputs.values():
            source.close()


def _copy_range(src: int, dst: int, start: int, end: int) -> None:
    """Copy bytes ``start`` to ``end`` of ``src`` to the position of ``dst``
    (in the kernel where it can)."""
    offset = start
    try:
        while offset < end:
            copied = os.copy_file_range(src, dst, end - offset, offset)
            if not copied:
                raise OSError("copy_file_range copied nothing")
            offset += copied
        return
    except (AttributeError, OSError):
        pass  # not Linux, or a filesystem pair the kernel cannot copy between
    while offset < end:
        chunk = os.pread(src, min(end - offset, 1 << 20), offset)
        if not chunk:
            raise OSError(f"input ended at byte {offset}, before {end}")
        view = memoryview(chunk)
        while view:
            view = view[os.write(dst, view) :]
        offset += len(chunk)


class WarcWriter:
    """One output file per input WARC/WET file: the kept records' bytes as
    they were in the input (whole gzip members, or plain records)."""

    def __init__(self, out_dir: Path, names: tuple[str, ...]) -> None:
        self._files = [(out_dir / name).open("xb") for name in names]
        self._inputs: dict[Path, BufferedReader] = {}

    def copy(self, source: int, path: Path, start: int, end: int) -> None:
        """Bytes ``start`` to ``end`` of ``path`` (whole records) as they are."""
        out = self._files[source]
        if path not in self._inputs:
            self._inputs[path] = path.open("rb")
        out.flush()
        _copy_range(self._inputs[path].fileno(), out.fileno(), start, end)

    def write_all(self, kept: KeptRecords) -> None:
        """Every kept record copied byte for byte."""
        for number, path, start, end in kept.kept_runs():
            self.copy(number, path, start, end)

    def close(self) -> None:
        for file in self._files:
            file.close()
        for source in self._inputs.values():
            source.close()


class TextDirWriter:
    """Each kept document at its relative path, bytes as cleaned."""

    def __init__(self, out_dir: Path) -> None:
        self._root = out_dir

    def write_all(self, kept: KeptRecords) -> None:
        for record, text in kept.documents():
            self.write(record, text)

    def write(self, record: Record, text: str) -> None:
        path = self._root / record.id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))

    def close(self) -> None:
        return None


class ParquetWriter:
    """One output file per input file with the input's schema."""

    def __init__(self, out_dir: Path, source: Source) -> None:
        pq = parquet_module()
        self._pq = pq
        self._text_field = source.text_field
        self._schemas = [pq.read_schema(p) for p in source.paths]
        for name in source.names:
            if (out_dir / name).exists():
                raise OutputError(f"{out_dir / name}: two inputs would share this output")
        self._writers = [
            pq.ParquetWriter(out_dir / name, schema)
            for name, schema in zip(source.names, self._schemas, strict=True)
        ]
        self._rows: list[list[dict[str, Any]]] = [[] for _ in source.paths]

    def _flush(self, source: int) -> None:
        import pyarrow as pa

        rows = self._rows[source]
        if rows:
            table = pa.Table.from_pylist(rows, schema=self._schemas[source])
            self._writers[source].write_table(table)
            rows.clear()

    def write_all(self, kept: KeptRecords) -> None:
        for record, text in kept.documents():
            self.write(record, text)

    def write(self, record: Record, text: str) -> None:
        fields = dict(record.fields or {})
        fields[self._text_field] = text
        self._rows[record.source].append(fields)
        if len(self._rows[record.source]) >= PARQUET_BATCH_ROWS:
            self._flush(record.source)

    def close(self) -> None:
        for source, writer in enumerate(self._writers):
            self._flush(source)
            writer.close()


def open_writer(
    source: Source, out_dir: Path, *, output_format: InputFormat | None = None
) -> CorpusWriter:
    """A writer for ``source``'s format under ``out_dir`` (which must exist);
    ``output_format``: ``InputFormat.JSONL`` writes WARC input as JSON Lines
    (``None``: the input's format)."""
    try:
        if source.format is InputFormat.WARC:
            from dedupe.io.warc import WarcSource

            if not isinstance(source, WarcSource):
                raise TypeError("a WARC source must be a WarcSource")
            if output_format is InputFormat.JSONL:
                return JsonlWriter(out_dir, source.jsonl_names, source.text_field)
            return WarcWriter(out_dir, source.names)
        if output_format not in {None, source.format}:
            raise OptionsError("only WARC/WET input can be written as JSON Lines")
        if source.format is InputFormat.TEXT_DIR:
            return TextDirWriter(out_dir)
        if source.format is InputFormat.PARQUET:
            return ParquetWriter(out_dir, source)
        return JsonlWriter(out_dir, source.names, source.text_field)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write: {exc.strerror or exc}") from None


def is_url(place: str | Path) -> bool:
    """Whether an output place names an fsspec URL (``s3://bucket/out``)."""
    return isinstance(place, str) and "://" in place


class RemoteDir:
    """An output directory at an fsspec URL (``s3://``, ``gs://``,
    ``file://``...); needs fsspec and the filesystem's package.

    Object stores have no rename, so the output is made in a local directory
    and uploaded at the end, ``summary.json`` last: a directory without it
    is not a finished output.
    """

    def __init__(self, url: str) -> None:
        try:
            import fsspec
        except ImportError:
            raise OutputError(
                f"{url}: writing to URLs needs fsspec (pip install 'dedupe-text[dask]')"
            ) from None
        try:
            self._fs, self._path = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise OutputError(f"{url}: cannot write: {exc}") from None
        self.url = url

    def exists(self) -> bool:
        try:
            return bool(self._fs.exists(self._path))
        except OSError as exc:
            raise OutputError(f"{self.url}: cannot write: {exc}") from None

    def upload(self, local: Path, *, overwrite: bool) -> None:
        """Copy the directory ``local`` to this URL (replacing what is there
        with ``overwrite``), ``summary.json`` last."""
        files = sorted(p for p in local.rglob("*") if p.is_file())
        files.sort(key=lambda p: p.name == "summary.json")
        try:
            if self.exists():
                if not overwrite:
                    raise OutputError(f"{self.url}: already exists (use --overwrite to replace it)")
                self._fs.rm(self._path, recursive=True)
            for path in files:
                target = f"{self._path.rstrip('/')}/{path.relative_to(local).as_posix()}"
                self._fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                self._fs.put_file(str(path), target)
        except OSError as exc:
            raise OutputError(f"{self.url}: cannot write: {exc}") from None
