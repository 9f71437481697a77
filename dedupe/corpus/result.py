"""The result of a corpus run: the kept records, the clusters with their
evidence, the boilerplate found and the summary."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dedupe.core.candidates import BandChoice, Pairs
from dedupe.corpus.boilerplate import BoilerplateParagraph
from dedupe.corpus.clusters import Clusters
from dedupe.corpus.executors import Executor
from dedupe.corpus.options import CorpusOptions, Progress
from dedupe.corpus.run import Run
from dedupe.corpus.stages import CorpusStages
from dedupe.corpus.summary import ClusterMember, CorpusSummary
from dedupe.io.sources import Record, Source


class CorpusResult:
    """The outcome of :func:`dedupe_corpus`.

    The analysis (clusters, boilerplate keys) is done when it is returned.
    Iterating yields each kept record as a dict, in input order, with its
    text field cleaned; :attr:`summary` and :attr:`boilerplate` are available
    once the iteration has ended. Use it as a context manager (or call
    :meth:`close`) to stop the workers and remove temporary files early.

    ``clusters`` holds document numbers (0-based input positions of the good
    records); ``edges`` every candidate pair verified at or above the
    threshold, with its exact Jaccard similarity in ``edge_similarity``: the
    evidence the clusters were built from.
    """

    def __init__(
        self,
        *,
        source: Source,
        options: CorpusOptions,
        executor: Executor,
        workdir: tempfile.TemporaryDirectory[str],
        progress: Progress,
        compiled: bool = True,
    ) -> None:
        self.source = source
        self.options = options
        self._run = Run(executor=executor, workdir=workdir, progress=progress)
        self._stages = CorpusStages(
            source=source, options=options, run=self._run, compiled=compiled
        )

    def analyse(self) -> None:
        """Run the stages before the output: read, near duplicates, boilerplate."""
        self._stages.analyse()

    @property
    def band_choice(self) -> BandChoice | None:
        return self._stages.band_choice

    @property
    def clusters(self) -> Clusters:
        return self._stages.clusters

    @property
    def edges(self) -> Pairs:
        return self._stages.edges

    @property
    def edge_similarity(self) -> npt.NDArray[np.float64]:
        return self._stages.edge_similarity

    @property
    def records_read(self) -> int:
        """Records the read pass found, good and bad."""
        return self._stages.records_read

    def cluster_members(self) -> list[ClusterMember]:
        """Every document in a cluster of two or more, by cluster, kept document first."""
        return self._stages.cluster_members()

    def copies_lines(self) -> bool:
        """Whether the output is the input's lines as read: no stage changes
        a kept record, and every partition is a range of a local,
        uncompressed JSON Lines file (see :meth:`kept_runs`)."""
        return self._stages.copies_lines()

    def kept_runs(self) -> Iterator[tuple[int, Path, int, int]]:
        """When :meth:`copies_lines`: the kept records as runs of whole lines,
        ``(input file, path, start byte, end byte)``, in input order, for the
        output to copy byte for byte (no worker reads them); the summary is
        made once the last one is out."""
        return self._stages.kept_runs()

    def documents(self) -> Iterator[tuple[Record, str]]:
        """Each kept record with its cleaned text, in input order."""
        return self._stages.documents()

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """For JSON Lines input: the output lines of the kept records, a
        partition at a time, with the input file they belong to (made in
        the workers, so the main process only writes)."""
        return self._stages.lines()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        field_name = self.source.text_field
        for record, text in self.documents():
            fields = dict(record.fields) if record.fields is not None else {"id": record.id}
            fields[field_name] = text
            yield fields

    @property
    def summary(self) -> CorpusSummary:
        if self._stages.summary is None:
            raise RuntimeError(
                "the summary is ready once every record has been read from the result"
            )
        return self._stages.summary

    @property
    def boilerplate(self) -> list[BoilerplateParagraph]:
        if self._stages.described is None:
            raise RuntimeError("boilerplate is described once every record has been read")
        return self._stages.described

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers (``abort``: at once, without waiting for running
        tasks) and remove the temporary files."""
        self._run.close(abort=abort)

    def __enter__(self) -> CorpusResult:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(abort=kind is not None)
