"""Executors: where the corpus stage functions run.

Every stage of :mod:`dedupe.corpus` is a pure module-level function over one
chunk of plain data (lists of strings, numpy arrays, file paths), mapped over
chunks by an :class:`Executor`. Results come back in submission order, so the
output is the same whatever runs them: one process, a local process pool, or
(later) a cluster backend implementing the same protocol.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Protocol, TypeVar

from dedupe.errors import OptionsError

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Maps a picklable function over items, yielding results in item order."""

    workers: int

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs every chunk in the calling process."""

    workers = 1

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)

    def close(self) -> None:
        return None


class ProcessExecutor:
    """A local process pool; at most ``2 * workers`` chunks are in flight, so
    a streamed input is never read far ahead of the results."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise OptionsError(f"workers must be at least 1, not {workers}")
        self.workers = workers
        # spawn: forking a process that may hold threads (rich, numpy) is unsafe.
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(self._pool.submit(fn, item))
                if len(pending) >= 2 * self.workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_executor(workers: int | None) -> Executor:
    """A serial executor for one worker, else a process pool (``None``: every core)."""
    count = available_cores() if workers is None else workers
    if count < 1:
        raise OptionsError(f"workers must be at least 1, not {count}")
    if count == 1:
        return SerialExecutor()
    return ProcessExecutor(count)
