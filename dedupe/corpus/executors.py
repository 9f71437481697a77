"""Executors: where a corpus run's stages run, and the two local ones.

Every per-partition stage (:mod:`dedupe.corpus.tasks`) is a pure module-level
function over one chunk of plain data (lists of strings, numpy arrays, file
paths), mapped over chunks by an :class:`Executor`; the near-duplicate stage is
the executor's own (:meth:`Executor.near_duplicates`). Results come back in
submission order, so the output is the same whatever runs them: one process,
a local process pool (both here), or a cluster (:mod:`dedupe.corpus.dask`).
Adding a runner is one module with a class that has the methods of
:class:`Executor`.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Protocol, TypeVar

from dedupe.corpus import local
from dedupe.corpus.engines import NearDupJob, NearDups
from dedupe.errors import OptionsError

T = TypeVar("T")
R = TypeVar("R")
_WATCH_SECONDS = 0.5


class Executor(Protocol):
    """Runs a corpus run's stages: maps a picklable function over items,
    yielding results in item order, and runs the near-duplicate stage."""

    workers: int

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...

    def near_duplicates(self, job: NearDupJob) -> NearDups:
        """The whole near-duplicate stage of a run (see :mod:`dedupe.corpus.engines`)."""
        ...

    def worker_peak_memory(self) -> int:
        """The largest resident set of any worker so far, in bytes (0: none)."""
        ...

    def close(self) -> None: ...

    def terminate(self) -> None:
        """Stop now, without waiting for running tasks (an interrupted run)."""
        ...


class SerialExecutor:
    """Runs every chunk in the calling process."""

    workers = 1

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)

    def close(self) -> None:
        return None

    def terminate(self) -> None:
        return None

    def near_duplicates(self, job: NearDupJob) -> NearDups:
        return local.near_duplicates(self, job)

    def worker_peak_memory(self) -> int:
        return _children_peak_memory()


class ProcessExecutor:
    """A local process pool; at most ``2 * workers`` chunks are in flight, so
    a streamed input is never read far ahead of the results."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise OptionsError(f"workers must be at least 1, not {workers}")
        self.workers = workers
        self.start_method = start_method()
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context(self.start_method),
            initializer=start_worker,
            initargs=(os.getpid(),),
        )
        if self.start_method == "fork":
            # Every worker is forked at the first task: do it now, while
            # start_method() still holds (no other thread has started since).
            with _sigint_held(), warnings.catch_warnings():
                # Python 3.12+ warns about any OS thread; the ones left are
                # native pools (OpenBLAS) that re-create themselves after fork.
                warnings.filterwarnings("ignore", ".* is multi-threaded", DeprecationWarning)
                self._pool.submit(int).result()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                with _sigint_held():
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

    def near_duplicates(self, job: NearDupJob) -> NearDups:
        return local.near_duplicates(self, job)

    def worker_peak_memory(self) -> int:
        return _children_peak_memory()

    def terminate(self) -> None:
        """Stop the workers now, running tasks and all (an interrupted run)."""
        # ProcessPoolExecutor has no public way to stop running tasks before
        # Python 3.14 (terminate_workers); its processes are in _processes.
        for process in list(getattr(self._pool, "_processes", {}).values()):
            process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _children_peak_memory() -> int:
    """The largest resident set of any exited child process, in bytes."""
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Ctrl-C held back while the pool may start a worker (it does so in
    submit): a KeyboardInterrupt in the middle would leave the new worker
    half-started, printing a traceback. The worker inherits the blocked
    signal, so Ctrl-C cannot reach it before :func:`start_worker` ignores
    it. A Ctrl-C that came meanwhile is raised on leaving."""
    previous = signal.getsignal(signal.SIGINT)
    # Only the main thread sets handlers; None: a handler set outside Python.
    usable = hasattr(signal, "pthread_sigmask") and previous is not None
    if not usable or threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda number, _: caught.append(number))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, previous)
    if caught and previous is signal.default_int_handler:
        raise KeyboardInterrupt
    if caught and callable(previous):
        previous(signal.SIGINT, None)


def start_worker(parent: int) -> None:
    """Set up a worker process of ``parent``: Ctrl-C is the parent's to
    handle (the terminal sends SIGINT to every process of the job, and each
    worker would print a traceback), and the worker exits once the parent
    is gone (after a kill -9 nothing else would end it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    # An orphan is adopted by another process: its parent id changes.
    while os.getppid() == parent:
        time.sleep(_WATCH_SECONDS)
    os._exit(1)


def start_method() -> str:
    """How worker processes start: ``"fork"`` or ``"spawn"``.

    spawn (a fresh interpreter) is the safe default, but each new worker first
    runs the caller's main script again (as ``__mp_main__``; forkserver does
    the same), so a script without an ``if __name__ == "__main__":`` guard
    would start its whole run again in every worker and break the pool.
    fork copies this process and runs nothing again; it is safe while no
    other Python thread runs (a copied lock held by a thread that does not
    exist in the child would never be released). So: fork on Linux when spawn
    would run a script again and this is the only thread; spawn otherwise
    (no script to run again: ``python -c``, a REPL, a notebook; threads
    running; macOS and Windows, where fork is unsafe or missing).
    """
    main = sys.modules.get("__main__")
    from_name = getattr(getattr(main, "__spec__", None), "name", None)
    reruns_script = from_name is not None or getattr(main, "__file__", None) is not None
    if reruns_script and sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


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
