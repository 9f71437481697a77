"""What a corpus run owns while it lasts: the executor, the temporary
directory, the progress receiver and the stage timings."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from dedupe.corpus.executors import Executor
from dedupe.corpus.options import Progress


class Run:
    """Owns a corpus run's executor and temporary directory (both released
    by :meth:`close`), reports its progress and times its stages in seconds
    from when it was made."""

    def __init__(
        self,
        *,
        executor: Executor,
        workdir: tempfile.TemporaryDirectory[str],
        progress: Progress,
    ) -> None:
        self.executor = executor
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._workdir = workdir
        self._started = time.perf_counter()

    @property
    def work(self) -> Path:
        """The temporary directory, removed by :meth:`close`."""
        return Path(self._workdir.name)

    def timed(self, stage: str, started: float) -> None:
        """Record that ``stage`` ran from ``started`` (``time.perf_counter``) until now."""
        self.timings[stage] = round(time.perf_counter() - started, 3)

    def time_total(self) -> None:
        """Record the time since the run was made as ``total``."""
        self.timed("total", self._started)

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers (``abort``: at once, without waiting for running
        tasks) and remove the temporary files."""
        if abort:
            self.executor.terminate()
        else:
            self.executor.close()
        self._workdir.cleanup()
