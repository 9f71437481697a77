"""What a corpus run reports: the summary, its cluster lines, and how the summary is built."""

from __future__ import annotations

import resource
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dedupe.core.candidates import BandChoice
from dedupe.corpus.clusters import Clusters
from dedupe.corpus.documents import Documents
from dedupe.corpus.executors import Executor
from dedupe.corpus.options import CorpusOptions


@dataclass(frozen=True, slots=True)
class BytesRemoved:
    """UTF-8 bytes of text removed by each stage."""

    near_dups: int = 0
    boilerplate: int = 0
    clean: int = 0


@dataclass(frozen=True, slots=True)
class ClusterMember:
    """A document in a cluster of two or more (the ``clusters.jsonl`` line)."""

    id: str
    cluster: int
    kept: str
    similarity_to_kept: float


@dataclass(frozen=True, slots=True)
class CorpusSummary:
    """What a run did. ``timings``: seconds per stage; ``peak_memory``: the
    largest resident set of the main process and of any worker, in bytes."""

    documents_in: int
    documents_out: int
    bad_records: int
    bad_record_examples: tuple[str, ...]
    clusters: int
    duplicates: int
    candidate_pairs: int
    verified_pairs: int
    boilerplate_paragraphs: int
    documents_emptied: int
    bytes_in: int
    bytes_removed: BytesRemoved
    band_choice: BandChoice | None
    parameters: dict[str, Any]
    workers: int
    timings: dict[str, float]
    peak_memory: int
    peak_worker_memory: int
    skipped_records: dict[str, int] = field(default_factory=dict)
    """Input records that are not documents, by kind (WARC ``request``,
    ``warcinfo``, ``response (not HTML)``...)."""
    indexed_duplicates: int = 0
    """Documents dropped as near-duplicates of indexed ones (``against``)."""
    added_to_index: int = 0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["bad_record_examples"] = list(self.bad_record_examples)
        return out


def peak_memory(executor: Executor) -> tuple[int, int]:
    """The peak resident set of this process and of any of ``executor``'s
    workers, in bytes."""
    # ru_maxrss is in KiB on Linux.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return own, executor.worker_peak_memory()


@dataclass(frozen=True, slots=True)
class OutputCounts:
    """What the output pass counted: documents written, UTF-8 bytes cut as
    boilerplate and as repeats, and kept documents left with no text."""

    documents: int
    boilerplate_bytes: int
    clean_bytes: int
    emptied: int


def build_summary(
    *,
    docs: Documents,
    nbytes: npt.NDArray[np.int64],
    clusters: Clusters,
    candidate_pairs: int,
    verified_pairs: int,
    boilerplate_paragraphs: int,
    output: OutputCounts,
    band_choice: BandChoice | None,
    options: CorpusOptions,
    workers: int,
    timings: Mapping[str, float],
    memory: tuple[int, int],
) -> CorpusSummary:
    """The summary of a finished run from what its stages found (``nbytes``:
    UTF-8 size of each good document; ``memory``: from :func:`peak_memory`)."""
    dropped = clusters.dropped
    return CorpusSummary(
        documents_in=len(nbytes),
        documents_out=output.documents,
        bad_records=docs.bad,
        bad_record_examples=tuple(docs.bad_examples),
        clusters=clusters.count,
        duplicates=len(dropped),
        candidate_pairs=candidate_pairs,
        verified_pairs=verified_pairs,
        boilerplate_paragraphs=boilerplate_paragraphs,
        documents_emptied=output.emptied,
        bytes_in=int(nbytes.sum()),
        bytes_removed=BytesRemoved(
            near_dups=int(nbytes[dropped].sum()),
            boilerplate=output.boilerplate_bytes,
            clean=output.clean_bytes,
        ),
        band_choice=band_choice,
        parameters=options.parameters(),
        workers=workers,
        timings=dict(timings),
        peak_memory=memory[0],
        peak_worker_memory=memory[1],
        skipped_records=dict(sorted(docs.skipped.items())),
    )
