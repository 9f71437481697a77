"""The near-duplicate stage's interface: what every runner gets and returns,
and the engine-neutral functions a cluster runner applies per partition.

A runner (an :class:`dedupe.corpus.executors.Executor`) runs the whole
near-duplicate stage in :meth:`~dedupe.corpus.executors.Executor.near_duplicates`:
it gets a :class:`NearDupJob` (the band keys, a way to read the texts of the
documents it wants, the keep order, progress and timing) and returns
:class:`NearDups`. The local executors run it on this machine's arrays
(:mod:`dedupe.corpus.local`); a cluster runner (:mod:`dedupe.corpus.dask`)
moves the data with its own shuffles and joins and calls the functions below
on each partition; they are plain numpy over one partition, so any engine
(Dask, Spark) can run them, and the local ones they wrap decide every result:

- :func:`bucket_stars`: star edges of the rows of band buckets held whole
  in one partition (:func:`dedupe.core.candidates.star_pairs`);
- :func:`pair_similarity`: exact Jaccard of candidate pairs
  (:func:`dedupe.corpus.near_duplicates.sorted_jaccard`);
- :func:`large_star` / :func:`small_star`: one round of connected components
  (Kiveris et al. 2014) over the edges of the nodes held whole in one
  partition, and :func:`star_violations` to tell, before a round, that the
  edges already form a star forest;
- :func:`resolve_group`: whole components checked against their kept
  documents (:func:`dedupe.corpus.clusters.resolve_clusters`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from dedupe.core.candidates import Pairs, star_pairs
from dedupe.corpus.clusters import Clusters, resolve_clusters
from dedupe.corpus.near_duplicates import BandStore, NearDupOptions, sorted_jaccard
from dedupe.corpus.options import Progress
from dedupe.io.sources import Partition

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Hashes = npt.NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class NearDupJob:
    """What the near-duplicate stage gets from a corpus run.

    ``bands``: the band keys of every document (closed); ``rank[d]``: document
    ``d``'s place in keep order (one entry per document); ``reads(wanted)``: for the documents with
    ``wanted[number]`` set, in input order, their numbers a partition at a
    time and the input partition that holds just them (which a worker reads
    itself, :func:`dedupe.io.sources.records_of`).
    """

    bands: BandStore
    options: NearDupOptions
    rank: Ints
    reads: Callable[[npt.NDArray[np.bool_]], Iterator[tuple[Ints, Partition]]]
    progress: Progress
    timed: Callable[[str, float], None]
    """Records that a stage ran from a ``time.perf_counter()`` value until now."""
    work: Path
    """A directory for spilled data, removed after the run."""
    compiled: bool = True
    """Whether workers load the compiled shingler (same results)."""


@dataclass(frozen=True, slots=True)
class NearDups:
    """The near-duplicate stage's outcome: the clusters, every verified edge
    ``(i, j)``, ``i < j``, sorted, with its exact similarity, and the number of
    candidate pairs; ``ids``: the id of every document in a cluster (more
    may be present)."""

    clusters: Clusters
    edges: Pairs
    similarity: Floats
    candidate_pairs: int
    ids: Mapping[int, str] = field(default_factory=dict)


T = TypeVar("T")
R = TypeVar("R")


def map_chosen(
    map_: Callable[[Callable[[T], R], Iterable[T]], Iterator[R]],
    fn: Callable[[T], R],
    selected: Iterable[tuple[Ints, Partition]],
    task: Callable[[Ints, Partition], T],
) -> Iterator[tuple[Ints, R]]:
    """``fn`` mapped (by an executor's ``map_``) over ``task(numbers,
    partition)`` for each of ``selected`` (document numbers and the partition
    narrowed to them, as :attr:`NearDupJob.reads` yields); yields the numbers
    with each result, in order."""
    pending: deque[Ints] = deque()

    def tasks() -> Iterator[T]:
        for numbers, partition in selected:
            pending.append(numbers)
            yield task(numbers, partition)

    for result in map_(fn, tasks()):
        yield pending.popleft(), result


def bucket_stars(band: Ints, key: Hashes, doc: Ints) -> Pairs:
    """Star edges ``(first, member)``, ``first < member``, of every bucket
    (rows sharing ``band`` and ``key``) of two or more, where ``first`` is the
    bucket's smallest document. Every row of a bucket must be present; pairs
    may repeat across bands."""
    order = np.lexsort((doc, band))
    band, key, doc = band[order], key[order], doc[order]
    starts = np.flatnonzero(np.diff(band, prepend=band[:1] - 1))
    ends = np.append(starts[1:], len(band))
    parts = [
        # Rows are in document order, so a bucket's first position is its smallest document.
        doc[lo:hi][star_pairs(key[lo:hi])]
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    return np.concatenate([np.empty((0, 2), np.int64), *parts]).astype(np.int64)


def pair_similarity(left: Sequence[Hashes], right: Sequence[Hashes]) -> Floats:
    """Exact Jaccard similarity of each pair of sorted shingle sets."""
    return np.fromiter(
        (sorted_jaccard(a, b) for a, b in zip(left, right, strict=True)),
        dtype=np.float64,
        count=len(left),
    )


def _group_min(node: Ints, other: Ints) -> tuple[Ints, Ints]:
    """For each distinct ``node``: the smallest of itself and its ``other`` ends."""
    order = np.argsort(node, kind="stable")
    node, other = node[order], other[order]
    starts = np.flatnonzero(np.diff(node, prepend=node[:1] - 1))
    nodes = node[starts]
    return nodes, np.minimum(nodes, np.minimum.reduceat(other, starts))


def _spread(nodes: Ints, values: Ints, at: Ints) -> Ints:
    spread: Ints = values[np.searchsorted(nodes, at)]
    return spread


def neighbourhoods(u: Ints, v: Ints) -> tuple[Ints, Ints]:
    """Directed edges ``u -> v`` without repeats or loops, sorted by ``u``."""
    pairs = np.unique(np.stack([u, v], axis=1)[u != v], axis=0)
    return pairs[:, 0], pairs[:, 1]


def large_star(u: Ints, v: Ints) -> Pairs:
    """Large-star over directed edges ``u -> v`` from :func:`neighbourhoods`
    (both directions of each edge, every edge of each ``u`` present): each
    node's larger neighbours are linked to the smallest node of its
    neighbourhood. Returns edges ``(a, b)``, ``a < b``, possibly repeated."""
    if not len(u):
        return np.empty((0, 2), np.int64)
    nodes, low = _group_min(u, v)
    larger = v > u
    return np.stack([_spread(nodes, low, u[larger]), v[larger]], axis=1)


def small_star(a: Ints, b: Ints) -> Pairs:
    """Small-star over edges ``a < b`` (every edge of each ``b`` present,
    repeats allowed): each node and its smaller neighbours are linked to the
    smallest of them. Returns edges ``(a, b)``, ``a < b``, possibly repeated."""
    if not len(a):
        return np.empty((0, 2), np.int64)
    nodes, low = _group_min(b, a)
    first = _spread(nodes, low, b)
    others = a != first
    return np.concatenate(
        [
            np.stack([low, nodes], axis=1),
            np.stack([first[others], a[others]], axis=1),
        ]
    )


def star_violations(u: Ints, v: Ints) -> int:
    """Nodes that keep directed edges ``u -> v`` from :func:`neighbourhoods`
    (every edge of each ``u`` present) from being a star forest whose centres
    are each component's smallest node: a node with a smaller neighbour and
    any other neighbour. Zero means each component is a star around its
    smallest node, so large-star and small-star would change nothing."""
    if not len(u):
        return 0
    starts = np.flatnonzero(np.diff(u, prepend=u[:1] - 1))
    degree = np.diff(np.append(starts, len(u)))
    has_smaller = np.minimum.reduceat(v, starts) < u[starts]
    return int(np.count_nonzero(has_smaller & (degree > 1)))


def resolve_group(
    edges: Pairs,
    similarity: Floats,
    nodes: Ints,
    ranks: Ints,
    shingles: Sequence[Hashes],
    *,
    threshold: float,
) -> tuple[Ints, Ints, Floats]:
    """Whole components checked against their kept documents: verified
    ``edges`` (document numbers) with their ``similarity``; ``nodes`` (sorted)
    every document they touch with its keep ``ranks`` and shingle set.
    Returns ``(documents, kept, similarity_to_kept)`` for the documents in
    clusters of two or more, as :class:`dedupe.corpus.clusters.Clusters` holds them."""
    local = np.searchsorted(nodes, edges)
    rank = np.empty(len(nodes), dtype=np.int64)
    rank[np.argsort(ranks, kind="stable")] = np.arange(len(nodes))

    def measure(pairs: Pairs) -> Floats:
        return pair_similarity(
            [shingles[i] for i in pairs[:, 0]], [shingles[j] for j in pairs[:, 1]]
        )

    found = resolve_clusters(local, similarity, rank, threshold=threshold, measure=measure)
    return nodes[found.documents], nodes[found.kept], found.similarity


def number_clusters(documents: Ints, kept: Ints, similarity: Floats) -> Clusters:
    """:class:`Clusters` from resolved groups in any order: sorted by document,
    clusters numbered in the input order of their kept documents."""
    order = np.argsort(documents, kind="stable")
    documents, kept, similarity = documents[order], kept[order], similarity[order]
    return Clusters(documents, kept, similarity, np.searchsorted(np.unique(kept), kept))
