"""The near-duplicate stage on this machine: band keys joined on disk,
candidate shingle sets spilled to disk, pairs verified and clusters resolved
through an executor's ``map`` (one process or a local pool)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from dedupe.core.candidates import Pairs
from dedupe.corpus.clusters import Clusters, resolve_clusters
from dedupe.corpus.engines import NearDupJob, NearDups, map_chosen
from dedupe.corpus.near_duplicates import ShingleStore, VerifyTask, verify_chunk
from dedupe.corpus.tasks import candidate_shingles
from dedupe.io.sources import Partition

if TYPE_CHECKING:  # the executors run this stage: a runtime import would be circular
    from dedupe.corpus.executors import Executor

# Candidate pairs per verify task.
_VERIFY_CHUNK = 4096


def _no_clusters() -> Clusters:
    return Clusters(
        np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.int64)
    )


def near_duplicates(executor: Executor, job: NearDupJob) -> NearDups:
    """Run the whole near-duplicate stage through ``executor``'s ``map``,
    reported as the stages candidates, shingles, verify and clusters."""
    progress, near = job.progress, job.options
    started = time.perf_counter()
    progress.start("candidates", None)
    pairs = job.bands.candidates(executor)
    progress.advance(len(pairs))
    job.timed("candidates", started)
    if not len(pairs):
        return NearDups(_no_clusters(), np.empty((0, 2), np.int64), np.empty(0, np.float64), 0)

    started = time.perf_counter()
    candidates = np.unique(pairs)
    wanted = np.zeros(len(job.rank), dtype=bool)
    wanted[candidates] = True
    store = ShingleStore(job.work / "shingles", candidates)
    progress.start("shingles", len(candidates))
    ids: dict[int, str] = {}

    def task(_: npt.NDArray[np.int64], partition: Partition) -> tuple[Partition, int, bool]:
        return partition, near.ngram, job.compiled

    try:
        for numbers, found in map_chosen(executor.map, candidate_shingles, job.reads(wanted), task):
            ids.update(zip(numbers.tolist(), found.ids, strict=True))
            store.append(found.shingles)
            progress.advance(len(numbers))
    finally:
        store.close()
    job.timed("shingles", started)

    started = time.perf_counter()
    progress.start("verify", len(pairs))

    def measure(docs: Pairs) -> npt.NDArray[np.float64]:
        rows = store.rows(docs)
        tasks = (
            VerifyTask(store.hashes_path, store.offsets_path, rows[i : i + _VERIFY_CHUNK])
            for i in range(0, len(rows), _VERIFY_CHUNK)
        )
        parts = []
        for sims in executor.map(verify_chunk, tasks):
            parts.append(sims)
            progress.advance(len(sims))
        return np.concatenate([np.empty(0, np.float64), *parts])

    similarity = measure(pairs)
    good = similarity >= near.threshold
    job.timed("verify", started)

    started = time.perf_counter()
    progress.start("clusters", None)
    clusters = resolve_clusters(
        pairs, similarity, job.rank, threshold=near.threshold, measure=measure
    )
    progress.advance(clusters.count)
    job.timed("clusters", started)
    return NearDups(clusters, pairs[good], similarity[good], len(pairs), ids)
