"""Near-duplicate rows of in-memory tables: a Hugging Face ``datasets.Dataset``
(:func:`dedupe_dataset`), a pandas or polars DataFrame (:func:`dedupe_frame`).

The text column is taken as an Arrow column (a Dataset and a polars frame
hold one already; pandas is converted once) and cut into record batches that
the corpus workers decode themselves, so the texts are never all Python
strings at once. Rows are kept or dropped whole; no text is changed. The
libraries are optional (extras ``datasets`` and ``frames``) and imported
only here, when called.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from dedupe.cleaning.groups import KeepPolicy
from dedupe.corpus.near_duplicates import NearDupOptions
from dedupe.corpus.pipeline import CorpusOptions, OnError, dedupe_corpus
from dedupe.errors import InputError, OptionsError
from dedupe.io.sources import ArrowRows, InputFormat, Item, Partition
from dedupe.params import CHUNK_SIZE

T = TypeVar("T")
CLUSTER_COLUMN = "cluster"


@dataclass(frozen=True, slots=True)
class ArrowColumnSource:
    """One string column of an Arrow table, as a corpus source; the id of a
    row is its 0-based row number."""

    table: Any
    text_field: str
    format: InputFormat = InputFormat.RECORDS
    paths: tuple[()] = ()
    names: tuple[str, ...] = ("records.jsonl",)

    def __iter__(self) -> Iterator[Item]:
        for partition in self.partitions(CHUNK_SIZE):
            for _, item in partition.items():
                yield item

    def partitions(self, size: int) -> Iterator[Partition]:
        first = 0
        for batch in self.table.select([self.text_field]).to_batches(max_chunksize=size):
            if batch.num_rows:
                positions = tuple(range(batch.num_rows))
                yield ArrowRows(0, "row", first, batch, positions, self.text_field)
                first += batch.num_rows


@dataclass(frozen=True, slots=True)
class Deduplicated(Generic[T]):
    """The outcome of :func:`dedupe_dataset` / :func:`dedupe_frame`.

    ``kept``: the kept rows, in input order, of the same type as the input.
    ``clusters``: for every input row, the row number of the row kept for it
    (its own number when it is kept), so rows with one value form a cluster.
    ``labelled``: the input with ``clusters`` as a column named ``cluster``.
    ``similarity``: for every input row, the exact Jaccard similarity of its
    shingle set to the kept row's (1.0 for a kept row).
    """

    kept: T
    clusters: npt.NDArray[np.int64]
    similarity: npt.NDArray[np.float64]
    labelled: T

    @property
    def duplicates(self) -> int:
        """Rows dropped as near-duplicates of a kept row."""
        return int(np.count_nonzero(self.clusters != np.arange(len(self.clusters))))


def _clusters(
    table: Any, column: str, options: NearDupOptions | None, keep: KeepPolicy, workers: int | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    import pyarrow as pa

    if column not in table.column_names:
        names = ", ".join(table.column_names)
        raise InputError(f"no column {column!r} (the columns are: {names})")
    kind = table.schema.field(column).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise InputError(f"column {column!r} holds {kind}, not strings")
    if table.column(column).null_count:
        first = table.column(column).is_null().to_numpy(zero_copy_only=False).argmax()
        raise InputError(f"row {first}: column {column!r} is empty (null)")
    corpus_options = CorpusOptions(
        near_dups=options or NearDupOptions(),
        boilerplate=None,
        clean=None,
        keep=keep,
        workers=workers,
        on_error=OnError.STOP,
    )
    source = ArrowColumnSource(table, column)
    n = table.num_rows
    clusters = np.arange(n, dtype=np.int64)
    similarity = np.ones(n, dtype=np.float64)
    with dedupe_corpus(source, options=corpus_options) as result:
        found = result.clusters
        # Every row is a good record (nulls refused above), so document
        # numbers are row numbers.
        clusters[found.documents] = found.kept
        similarity[found.documents] = found.similarity
    return clusters, similarity


def dedupe_dataset(
    dataset: Any,
    *,
    column: str = "text",
    options: NearDupOptions | None = None,
    keep: KeepPolicy = KeepPolicy.FIRST,
    workers: int | None = 1,
) -> Deduplicated[Any]:
    """Drop the near-duplicate rows of a Hugging Face ``datasets.Dataset``
    (``load_from_disk``, ``Dataset.from_dict``, a loaded hub dataset).

    ``column``: the text column (strings, no nulls). ``options``: threshold,
    shingles, MinHash (``None``: the defaults of ``dedupe corpus``).
    ``keep``: the first or the longest row of a cluster stays.
    ``workers``: processes (``None``: every core; 1 runs in this process,
    best in a notebook for small data). Raises :class:`InputError` for a
    missing or non-string column and for a null text.
    """
    try:
        import datasets
    except ImportError:
        raise OptionsError(
            "dedupe_dataset needs the datasets package (pip install 'dedupe-text[datasets]')"
        ) from None
    if not isinstance(dataset, datasets.Dataset):
        raise TypeError(
            f"dedupe_dataset takes a datasets.Dataset, not {type(dataset).__name__} "
            "(a DatasetDict: pass one split, ds['train'])"
        )
    # A Dataset that was filtered or shuffled holds an indices mapping over
    # its Arrow table; flatten_indices gives the rows in their shown order.
    if dataset._indices is not None:
        dataset = dataset.flatten_indices()
    clusters, similarity = _clusters(dataset.data.table, column, options, keep, workers)
    kept = np.flatnonzero(clusters == np.arange(len(clusters)))
    return Deduplicated(
        kept=dataset.select(kept),
        clusters=clusters,
        similarity=similarity,
        labelled=dataset.add_column(CLUSTER_COLUMN, clusters.tolist()),
    )


def dedupe_frame(
    frame: Any,
    *,
    column: str = "text",
    options: NearDupOptions | None = None,
    keep: KeepPolicy = KeepPolicy.FIRST,
    workers: int | None = 1,
) -> Deduplicated[Any]:
    """Drop the near-duplicate rows of a pandas or polars DataFrame; options
    as for :func:`dedupe_dataset`. ``kept`` keeps the frame's index (pandas);
    row numbers in ``clusters`` are positions (0 to ``len - 1``), not index
    labels."""
    module = type(frame).__module__.split(".")[0]
    if module == "polars":
        import polars as pl

        if column not in frame.columns:
            table = _arrow_names(frame.columns)
        else:
            table = frame.select(column).to_arrow()
        clusters, similarity = _clusters(table, column, options, keep, workers)
        kept = clusters == np.arange(len(clusters))
        return Deduplicated(
            kept=frame.filter(pl.Series(kept)),
            clusters=clusters,
            similarity=similarity,
            labelled=frame.with_columns(pl.Series(CLUSTER_COLUMN, clusters)),
        )
    if module == "pandas":
        import pyarrow as pa

        if column not in frame.columns:
            table = _arrow_names([str(c) for c in frame.columns])
        else:
            try:
                table = pa.table({column: pa.array(frame[column], from_pandas=True)})
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise InputError(f"column {column!r} does not hold strings: {exc}") from None
        clusters, similarity = _clusters(table, column, options, keep, workers)
        kept = clusters == np.arange(len(clusters))
        return Deduplicated(
            kept=frame[kept],
            clusters=clusters,
            similarity=similarity,
            labelled=frame.assign(**{CLUSTER_COLUMN: clusters}),
        )
    raise TypeError(f"dedupe_frame takes a pandas or polars DataFrame, not {type(frame).__name__}")


def _arrow_names(names: list[str]) -> Any:
    """An empty table with these columns, for the missing-column message."""
    import pyarrow as pa

    return pa.table({name: pa.array([], pa.string()) for name in names})
