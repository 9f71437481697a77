"""``dedupe corpus`` on a Dask cluster (``dask.distributed``; the ``dask`` extra).

:class:`DaskExecutor` runs the per-partition stage functions of
:mod:`dedupe.corpus.tasks` as tasks on the cluster, results in input order; a task
whose worker dies is run again elsewhere, so the output does not change. Its
:meth:`~DaskExecutor.near_duplicates` (the :class:`~dedupe.corpus.executors.Executor`
interface) runs the near-duplicate stage on the cluster, with Dask DataFrame shuffles around the
engine-neutral partition functions of :mod:`dedupe.corpus.engines`:

1. candidates: the band keys (8 bytes a document and band) go to the
   workers; a shuffle by band key puts every bucket in one partition, where
   :func:`~dedupe.corpus.engines.bucket_stars` makes its star edges; a shuffle by
   the first document drops pairs found in several bands.
2. verify: the shingle sets of candidate documents are computed on the
   workers, each task reading the input partition that holds its documents
   (so every worker must reach the input paths or URLs), and stay there; two joins
   bring each pair its two sets (:func:`~dedupe.corpus.engines.pair_similarity`).
3. components of the verified edges: large-star and small-star rounds
   (Kiveris et al. 2014), each a shuffle by node, until the edges form a star
   forest around each component's smallest document.
4. keepers: edges and shingle sets shuffled by component, each whole
   component checked against its kept documents
   (:func:`~dedupe.corpus.engines.resolve_group`, the local function).

Every other stage reads its partitions on the workers too (the client cuts
uncompressed JSON Lines into byte ranges and never parses a record; a
compressed file's lines travel from the client). The client keeps a few
numbers per document, and receives the candidate documents (to say which
partitions to read), the clusters and the verified edges (the
evidence a :class:`~dedupe.corpus.pipeline.CorpusResult` carries); candidate pairs and
shingle sets never leave the cluster. Every task is recomputable from its
inputs (nothing is scattered), so losing a worker loses no data.
"""

from __future__ import annotations

import logging
import resource
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import dask
import dask.dataframe as dd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
from distributed import Client, Future, LocalCluster, wait

from dedupe.core.minhash import use_compiled
from dedupe.corpus.clusters import Clusters
from dedupe.corpus.engines import (
    NearDupJob,
    NearDups,
    bucket_stars,
    large_star,
    map_chosen,
    neighbourhoods,
    number_clusters,
    pair_similarity,
    resolve_group,
    small_star,
    star_violations,
)
from dedupe.corpus.executors import available_cores
from dedupe.corpus.near_duplicates import BandStore, ShingleTask, shingle_chunk
from dedupe.corpus.tasks import record_ids
from dedupe.corpus.workdirs import temp_dir
from dedupe.errors import OptionsError
from dedupe.io.records import comparable
from dedupe.io.sources import Partition, records_of
from dedupe.params import DASK_BAND_ROWS

T = TypeVar("T")
R = TypeVar("R")

# Rows of band keys a partition holds before the shuffle.
# Task-based shuffles: a lost worker's share is recomputed like any task.
_CONFIG = {"dataframe.shuffle.method": "tasks"}
# Shingle sets travel as Arrow binary: an object column of bytes would be
# turned into strings by Dask's string conversion.
_BINARY = pd.ArrowDtype(pa.binary())

_I64 = np.int64


def _frame(**columns: Any) -> pd.DataFrame:
    return pd.DataFrame(columns)


_PAIRS = _frame(a=np.empty(0, _I64), b=np.empty(0, _I64))
_EDGES = _frame(a=np.empty(0, _I64), b=np.empty(0, _I64), sim=np.empty(0, np.float64))
_DIRECTED = _frame(u=np.empty(0, _I64), v=np.empty(0, _I64))
_BANDS = _frame(band=np.empty(0, _I64), key=np.empty(0, np.uint64), doc=np.empty(0, _I64))
_SHINGLES = _frame(doc=np.empty(0, _I64), rank=np.empty(0, _I64), sh=pd.Series([], dtype=_BINARY))
_LABELS = _frame(doc=np.empty(0, _I64), comp=np.empty(0, _I64))
_NODES = _frame(node=np.empty(0, _I64))
_COUNT = _frame(count=np.empty(0, _I64))
_GROUPS = _frame(
    comp=np.empty(0, _I64),
    a=np.empty(0, _I64),
    b=np.empty(0, _I64),
    sim=np.empty(0, np.float64),
    rank=np.empty(0, _I64),
    sh=pd.Series([], dtype=_BINARY),
)
_RESOLVED = _frame(
    document=np.empty(0, _I64), kept=np.empty(0, _I64), similarity=np.empty(0, np.float64)
)


def _ints(series: pd.Series) -> npt.NDArray[np.int64]:
    values: npt.NDArray[np.int64] = series.to_numpy(dtype=_I64)
    return values


def _binary(column: pd.Series) -> pd.Series:
    """The column's values under a fresh index, so they line up with plain arrays."""
    return pd.Series(column.array, dtype=_BINARY)


def _pairs_frame(pairs: npt.NDArray[np.int64]) -> pd.DataFrame:
    return _frame(a=pairs[:, 0].astype(_I64), b=pairs[:, 1].astype(_I64))


# ---- partition functions: pandas around the numpy ones of dedupe.corpus.engines ----


def _band_frame(
    band: int, keys: npt.NDArray[np.uint64], docs: npt.NDArray[np.int64]
) -> pd.DataFrame:
    return _frame(band=np.full(len(docs), band, dtype=_I64), key=keys, doc=docs)


def _stars(part: pd.DataFrame) -> pd.DataFrame:
    pairs = bucket_stars(_ints(part["band"]), part["key"].to_numpy(np.uint64), _ints(part["doc"]))
    return _pairs_frame(pairs)


def _distinct(part: pd.DataFrame) -> pd.DataFrame:
    return part.drop_duplicates(ignore_index=True)


def _shingle_frame(
    docs: npt.NDArray[np.int64], ranks: npt.NDArray[np.int64], partition: Partition, ngram: int
) -> pd.DataFrame:
    texts = tuple(comparable(r.text) for r in records_of(partition))
    use_compiled()
    chunk = shingle_chunk(ShingleTask(texts, ngram))
    ends = np.cumsum(chunk.sizes)
    starts = ends - chunk.sizes
    sets = [
        chunk.hashes[s:e].tobytes() for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    return _frame(doc=docs, rank=ranks, sh=pd.Series(sets, dtype=_BINARY))


def _side(part: pd.DataFrame, end: str) -> pd.DataFrame:
    """A shingle frame keyed for one end of a pair: ``doc`` becomes ``end``."""
    return _frame(**{end: _ints(part["doc"]), f"sh_{end}": _binary(part["sh"])})


def _sets(column: pd.Series) -> list[npt.NDArray[np.uint64]]:
    return [np.frombuffer(raw, dtype=np.uint64) for raw in column.tolist()]


def _verified(part: pd.DataFrame, threshold: float) -> pd.DataFrame:
    sim = pair_similarity(_sets(part["sh_a"]), _sets(part["sh_b"]))
    good = sim >= threshold
    return _frame(a=_ints(part["a"])[good], b=_ints(part["b"])[good], sim=sim[good])


def _both_ways(part: pd.DataFrame) -> pd.DataFrame:
    a, b = _ints(part["a"]), _ints(part["b"])
    return _frame(u=np.concatenate([a, b]), v=np.concatenate([b, a]))


def _neighbourhoods(part: pd.DataFrame) -> pd.DataFrame:
    u, v = neighbourhoods(_ints(part["u"]), _ints(part["v"]))
    return _frame(u=u, v=v)


def _large_star(part: pd.DataFrame) -> pd.DataFrame:
    return _pairs_frame(large_star(_ints(part["u"]), _ints(part["v"])))


def _violations(part: pd.DataFrame) -> pd.DataFrame:
    found = star_violations(_ints(part["u"]), _ints(part["v"]))
    return _frame(count=np.array([found], dtype=_I64))


def _small_star(part: pd.DataFrame) -> pd.DataFrame:
    return _pairs_frame(small_star(_ints(part["a"]), _ints(part["b"])))


def _length(part: pd.DataFrame) -> pd.DataFrame:
    return _frame(count=np.array([len(part)], dtype=_I64))


def _nodes(part: pd.DataFrame) -> pd.DataFrame:
    return _frame(node=np.unique(np.concatenate([_ints(part["a"]), _ints(part["b"])])))


def _labels(part: pd.DataFrame) -> pd.DataFrame:
    a, b = _ints(part["a"]), _ints(part["b"])
    return _frame(doc=np.concatenate([b, a]), comp=np.concatenate([a, a]))


def _side_labels(part: pd.DataFrame) -> pd.DataFrame:
    return _frame(a=_ints(part["doc"]), comp=_ints(part["comp"]))


def _edge_rows(part: pd.DataFrame) -> pd.DataFrame:
    return _frame(
        comp=_ints(part["comp"]),
        a=_ints(part["a"]),
        b=_ints(part["b"]),
        sim=part["sim"].to_numpy(np.float64),
        rank=np.full(len(part), -1, _I64),
        sh=pd.Series([None] * len(part), dtype=_BINARY),
    )


def _node_rows(part: pd.DataFrame) -> pd.DataFrame:
    return _frame(
        comp=_ints(part["comp"]),
        a=_ints(part["doc"]),
        b=np.full(len(part), -1, _I64),
        sim=np.full(len(part), np.nan),
        rank=_ints(part["rank"]),
        sh=_binary(part["sh"]),
    )


def _resolve(part: pd.DataFrame, threshold: float) -> pd.DataFrame:
    is_edge = part["b"].to_numpy() >= 0
    edges, nodes = part[is_edge], part[~is_edge].sort_values("a")
    if not len(edges):
        return _RESOLVED.copy()
    documents, kept, similarity = resolve_group(
        np.stack([_ints(edges["a"]), _ints(edges["b"])], axis=1),
        edges["sim"].to_numpy(np.float64),
        _ints(nodes["a"]),
        _ints(nodes["rank"]),
        _sets(nodes["sh"]),
        threshold=threshold,
    )
    return _frame(document=documents, kept=kept, similarity=similarity)


def _whole(_: npt.NDArray[np.int64], partition: Partition) -> Partition:
    return partition


def _peak_rss() -> int:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---- the executor ----


class DaskExecutor:
    """Runs a corpus on the cluster behind ``client``, which the caller owns
    (:meth:`close` cancels this executor's tasks, never the client).

    ``partitions``: partitions of each shuffle (``None``: twice the worker
    threads); ``band_rows``: band keys per partition before the shuffle.
    """

    def __init__(
        self,
        client: Client,
        *,
        partitions: int | None = None,
        band_rows: int = DASK_BAND_ROWS,
    ) -> None:
        if partitions is not None and partitions < 1:
            raise OptionsError(f"partitions must be at least 1, not {partitions}")
        if band_rows < 1:
            raise OptionsError(f"band rows must be at least 1, not {band_rows}")
        self.client = client
        self.workers = max(1, sum(client.nthreads().values()))
        self._partitions = partitions or 2 * self.workers
        self._band_rows = band_rows
        self._futures: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """One task on the cluster (a new one each call, never a cached
        result); its result lives on the cluster while the future is held."""
        future: Future[Any] = self.client.submit(fn, *args, pure=False)
        return future

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        # At most 2 * workers tasks in flight: a streamed input is not read far ahead.
        pending: deque[Future[Any]] = deque()
        try:
            for item in items:
                pending.append(self.submit(fn, item))
                self._futures.add(pending[-1])
                if len(pending) >= 2 * self.workers:
                    yield self._take(pending.popleft())
            while pending:
                yield self._take(pending.popleft())
        finally:
            for future in pending:
                future.cancel()
                self._futures.discard(future)

    def _take(self, future: Future[Any]) -> Any:
        value = future.result()
        self._futures.discard(future)
        return value

    def close(self) -> None:
        """Cancel the tasks of a :meth:`map` still running (the near-duplicate
        stage holds its data only while it runs)."""
        for future in self._futures:
            future.cancel()
        self._futures.clear()

    def terminate(self) -> None:
        """Cancel this executor's tasks (the cluster's workers stay up)."""
        self.close()

    def worker_peak_memory(self) -> int:
        return max(self.peak_worker_memory().values(), default=0)

    def peak_worker_memory(self) -> dict[str, int]:
        """Largest resident set of each worker process so far, in bytes, by address
        (worker threads of one process share a number)."""
        peaks: dict[str, int] = self.client.run(_peak_rss)
        return peaks

    # -- the near-duplicate stage --

    # A LocalCluster's scheduler runs in this process and builds each graph
    # in a thread of its own; on Python 3.11 that thread and this one can
    # deadlock on the class-wide locks of functools.cached_property in Dask's
    # expressions. So this thread waits until every graph it sends is done
    # before it builds the next one.

    def _compute(self, collection: Any) -> Any:
        return self.client.compute(collection).result()

    def _persist(self, frame: dd.DataFrame) -> dd.DataFrame:
        persisted: dd.DataFrame = self.client.persist(frame)
        self._wait(persisted)
        return persisted

    def _wait(self, done: Any) -> None:
        with self.client.as_current():
            wait(done)

    def _by(self, frame: dd.DataFrame, column: str) -> dd.DataFrame:
        shuffled: dd.DataFrame = frame.shuffle(column, npartitions=self._partitions)
        return shuffled

    def _unique_pairs(self, pairs: dd.DataFrame) -> dd.DataFrame:
        unique: dd.DataFrame = self._by(pairs, "a").map_partitions(_distinct, meta=_PAIRS)
        return unique

    def near_duplicates(self, job: NearDupJob) -> NearDups:
        """The near-duplicate stage on the cluster, reported as one stage,
        ``near-duplicates``, that advances by the candidate pairs at its end."""
        started = time.perf_counter()
        job.progress.start("near-duplicates", None)
        with dask.config.set(_CONFIG):
            found = self._near_duplicates(job)
        job.progress.advance(found.candidate_pairs)
        found = replace(found, ids=self._ids(job, found.clusters.documents))
        job.timed("near-duplicates", started)
        return found

    def _ids(self, job: NearDupJob, documents: npt.NDArray[np.int64]) -> dict[int, str]:
        """The ids of ``documents`` (for the cluster report), read on the cluster."""
        wanted = np.zeros(len(job.rank), dtype=bool)
        wanted[documents] = True
        ids: dict[int, str] = {}
        for numbers, found in map_chosen(self.map, record_ids, job.reads(wanted), _whole):
            ids.update(zip(numbers.tolist(), found, strict=True))
        return ids

    def _near_duplicates(self, job: NearDupJob) -> NearDups:
        empty = Clusters(
            np.empty(0, _I64), np.empty(0, _I64), np.empty(0, np.float64), np.empty(0, _I64)
        )
        pairs = self._persist(self._candidates(job.bands))
        count, ends = self.client.compute(
            [
                pairs.map_partitions(_length, meta=_COUNT)["count"].sum(),
                pairs.map_partitions(_nodes, meta=_NODES)["node"],
            ],
            sync=True,
        )
        candidates = int(count)
        if not candidates:
            return NearDups(empty, np.empty((0, 2), _I64), np.empty(0, np.float64), 0)
        wanted = np.zeros(job.bands.documents, dtype=bool)
        wanted[_ints(ends)] = True
        shingles = self._persist(self._shingles(job, wanted))
        sides = [shingles.map_partitions(_side, end, meta=_side(_SHINGLES, end)) for end in "ab"]
        joined = pairs.merge(sides[0], on="a", npartitions=self._partitions).merge(
            sides[1], on="b", npartitions=self._partitions
        )
        edges = self._persist(joined.map_partitions(_verified, job.options.threshold, meta=_EDGES))
        del pairs
        found = self._compute(edges)
        if not len(found):
            return NearDups(empty, np.empty((0, 2), _I64), np.empty(0, np.float64), candidates)
        found = found.sort_values(["a", "b"], ignore_index=True)
        labels = self._components(edges[["a", "b"]])
        clusters = self._keepers(edges, shingles, labels, job.options.threshold)
        return NearDups(
            clusters,
            np.stack([_ints(found["a"]), _ints(found["b"])], axis=1),
            found["sim"].to_numpy(np.float64),
            candidates,
        )

    def _candidates(self, bands: BandStore) -> dd.DataFrame:
        ids = bands.signable()
        parts = []
        for band in range(bands.bands):
            keys = bands.band(band)[ids]
            for lo in range(0, len(ids), self._band_rows):
                hi = lo + self._band_rows
                parts.append(self.submit(_band_frame, band, keys[lo:hi], ids[lo:hi]))
        if not parts:
            parts.append(self.submit(_band_frame, 0, np.empty(0, np.uint64), np.empty(0, _I64)))
        self._wait(parts)
        rows = dd.from_delayed(parts, meta=_BANDS, verify_meta=False)
        stars = self._by(rows, "key").map_partitions(_stars, meta=_PAIRS)
        return self._unique_pairs(stars)

    def _shingles(self, job: NearDupJob, wanted: npt.NDArray[np.bool_]) -> dd.DataFrame:
        # Each task reads its partition of the input on the worker.
        parts = [
            self.submit(_shingle_frame, numbers, job.rank[numbers], partition, job.options.ngram)
            for numbers, partition in job.reads(wanted)
        ]
        self._wait(parts)
        shingles: dd.DataFrame = dd.from_delayed(parts, meta=_SHINGLES, verify_meta=False)
        return shingles

    def _components(self, edges: dd.DataFrame) -> dd.DataFrame:
        """``(doc, comp)`` for every document of an edge: ``comp`` is the
        smallest document of its component.

        A round is two shuffles: by node (repeats dropped, the star-forest
        test, large-star), then by larger end (small-star)."""
        while True:
            directed = self._by(edges.map_partitions(_both_ways, meta=_DIRECTED), "u")
            directed = self._persist(directed.map_partitions(_neighbourhoods, meta=_DIRECTED))
            if not self._compute(directed.map_partitions(_violations, meta=_COUNT)["count"].sum()):
                break
            large = directed.map_partitions(_large_star, meta=_PAIRS)
            edges = self._persist(self._by(large, "b").map_partitions(_small_star, meta=_PAIRS))
        labels = edges.map_partitions(_labels, meta=_LABELS)
        unique: dd.DataFrame = self._by(labels, "doc").map_partitions(_distinct, meta=_LABELS)
        return unique

    def _keepers(
        self,
        edges: dd.DataFrame,
        shingles: dd.DataFrame,
        labels: dd.DataFrame,
        threshold: float,
    ) -> Clusters:
        by_a = labels.map_partitions(
            _side_labels, meta=_frame(a=np.empty(0, _I64), comp=np.empty(0, _I64))
        )
        edge_rows = edges.merge(by_a, on="a", npartitions=self._partitions).map_partitions(
            _edge_rows, meta=_GROUPS
        )
        node_rows = shingles.merge(labels, on="doc", npartitions=self._partitions).map_partitions(
            _node_rows, meta=_GROUPS
        )
        groups = self._by(dd.concat([edge_rows, node_rows]), "comp")
        resolved = self._compute(groups.map_partitions(_resolve, threshold, meta=_RESOLVED))
        return number_clusters(
            _ints(resolved["document"]),
            _ints(resolved["kept"]),
            resolved["similarity"].to_numpy(np.float64),
        )


def local_cluster(
    workers: int, *, processes: bool = True, local_directory: str | Path | None = None
) -> LocalCluster:
    """A cluster of ``workers`` single-threaded workers on this machine, on
    loopback only, dashboard on a free loopback port. ``local_directory``:
    where workers spill and lock (``None``: Dask's ``dask-scratch-space``
    under the system temp dir, which outlives the cluster)."""
    if workers < 1:
        raise OptionsError(f"workers must be at least 1, not {workers}")
    with _sigint_ignored():
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            # In one process Dask would pick its in-process transport, which takes no host.
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
            **_scratch(local_directory),
        )


def _scratch(local_directory: str | Path | None) -> dict[str, Any]:
    if local_directory is None:
        return {}
    # The scheduler keeps a scratch space of its own (empty, but left behind).
    where = str(local_directory)
    return {"local_directory": where, "scheduler_kwargs": {"local_directory": where}}


def local_worker_count(asked: int | None) -> int:
    """Worker processes of a cluster started on this machine: ``asked``
    (``None``: every core), at most one per core. Each worker runs one
    thread, and Dask's nanny already caps the BLAS/OpenMP threads of each at
    one; more workers than cores only compete for them (and split the
    memory limit between more processes, so each spills sooner)."""
    cores = available_cores()
    return cores if asked is None else max(1, min(asked, cores))


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while worker processes start: they inherit that (Python
    leaves an ignored SIGINT ignored), so Ctrl-C interrupts this process
    alone instead of printing a traceback from every worker. A Ctrl-C
    during the start itself is lost."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def dask_executor(
    scheduler: str | None = None,
    *,
    local_workers: int | None = None,
    tmp_dir: Path | None = None,
) -> Iterator[DaskExecutor]:
    """A :class:`DaskExecutor` on the scheduler at ``scheduler``
    (``tcp://host:8786``), or else on a :func:`local_cluster` of
    :func:`local_worker_count` ``(local_workers)`` workers, scratch space in
    a temporary directory under ``tmp_dir`` (``None``: the system temp
    dir); all are closed and removed on exit."""
    with ExitStack() as stack:
        cluster = None
        if scheduler is None:
            scratch = stack.enter_context(temp_dir("dask", tmp_dir))
            cluster = stack.enter_context(
                local_cluster(local_worker_count(local_workers), local_directory=scratch)
            )
        try:
            client = Client(scheduler if cluster is None else cluster, set_as_default=False)
        except OSError as exc:
            raise OptionsError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield DaskExecutor(client)
