"""``dedupe corpus`` on a local process pool against the same run on a Dask
LocalCluster: wall time, peak memory per worker, and whether the outputs are
the same bytes.

The corpus is the seeded one of ``benchmarks/corpus.py`` (near-duplicates
planted at ``--near-rate`` with 2% of words replaced, exact copies at
``--copy-rate``, a footer per site), written once into ``--data-dir``.

Each run is a fresh process (so its peak memory is its own): ``local`` is
:func:`dedupe.corpus.pipeline.write_corpus` with a pool of ``--workers`` processes;
``dask`` starts a LocalCluster of ``--workers`` single-threaded worker
processes on loopback and passes a :class:`~dedupe.corpus.dask.DaskExecutor`.
Cluster start-up is timed apart from the run. Worker memory: the largest
resident set of each worker process (for the pool, the largest of any
worker, as the operating system reports it for waited-for children).
``identical``: every output file but ``summary.json`` has the same SHA-256.

The default (50,000 documents of ~3 KB, every stage) takes a minute or two
here (once the corpus is generated); ``--docs 200000``, ``--workers``,
``--stages near`` for more.

Run from the repository root: ``python -m benchmarks.dask_corpus [--docs N]``
(results go to ``benchmarks/results/dask_corpus.json`` by default).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.corpus import add_corpus_arguments, corpus_file, isolated
from dedupe.cleaning.pipeline import CleanOptions
from dedupe.corpus.boilerplate import BoilerplateOptions
from dedupe.corpus.pipeline import CorpusOptions, CorpusSummary, write_corpus
from dedupe.io.sources import open_source

DEFAULT_OUT = Path(__file__).parent / "results" / "dask_corpus.json"


def _digests(out_dir: Path) -> dict[str, str]:
    return {
        p.relative_to(out_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out_dir.rglob("*"))
        if p.is_file() and p.name != "summary.json"
    }


def _options(stages: str, chunk: int, workers: int, tmp: Path) -> CorpusOptions:
    every = stages == "all"
    return CorpusOptions(
        boilerplate=BoilerplateOptions() if every else None,
        clean=CleanOptions() if every else None,
        workers=workers,
        chunk_size=chunk,
        tmp_dir=tmp,
    )


def _report(summary: CorpusSummary, seconds: float, out_dir: Path) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 2),
        "docs_per_second": round(summary.documents_in / seconds),
        "documents_in": summary.documents_in,
        "documents_out": summary.documents_out,
        "clusters": summary.clusters,
        "candidate_pairs": summary.candidate_pairs,
        "verified_pairs": summary.verified_pairs,
        "timings": summary.timings,
        "peak_main_memory_mb": round(summary.peak_memory / 2**20),
        "digests": _digests(out_dir),
    }


def local_run(path: Path, stages: str, chunk: int, workers: int, tmp: Path) -> dict[str, Any]:
    out_dir = tmp / "local"
    started = time.perf_counter()
    summary = write_corpus(
        open_source([path], id_field="id"), out_dir, options=_options(stages, chunk, workers, tmp)
    )
    report = _report(summary, time.perf_counter() - started, out_dir)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    report["peak_worker_memory_mb"] = {"largest worker": round(children / 2**20)}
    return report


def dask_run(path: Path, stages: str, chunk: int, workers: int, tmp: Path) -> dict[str, Any]:
    from dedupe.corpus.dask import dask_executor

    out_dir = tmp / "dask"
    started = time.perf_counter()
    with dask_executor(local_workers=workers) as executor:
        startup = time.perf_counter() - started
        started = time.perf_counter()
        summary = write_corpus(
            open_source([path], id_field="id"),
            out_dir,
            options=_options(stages, chunk, 1, tmp),
            executor=executor,
        )
        report = _report(summary, time.perf_counter() - started, out_dir)
        peaks = executor.peak_worker_memory()
    report["cluster_startup_seconds"] = round(startup, 2)
    report["peak_worker_memory_mb"] = {
        f"worker {i}": round(peaks[address] / 2**20) for i, address in enumerate(sorted(peaks))
    }
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser, docs=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stages", choices=["all", "near"], default="all")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    path = corpus_file(args)
    results: dict[str, Any] = {
        "benchmark": "dask_corpus",
        "docs": args.docs,
        "doc_bytes": args.doc_bytes,
        "input_mb": round(path.stat().st_size / 1e6, 1),
        "seed": args.seed,
        "stages": args.stages,
        "workers": args.workers,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    for name, run in (("local", local_run), ("dask", dask_run)):
        with tempfile.TemporaryDirectory(prefix="dedupe-bench-", dir=args.tmp_dir) as tmp:
            report = isolated(run, path, args.stages, args.chunk_size, args.workers, Path(tmp))
        results[name] = report
        shown = {k: v for k, v in report.items() if k != "digests"}
        print(f"{name}: {json.dumps(shown)}", flush=True)
    digests = [results[name].pop("digests") for name in ("local", "dask")]
    results["identical"] = digests[0] == digests[1]
    results["output_files"] = len(digests[0])
    results["dask_over_local_time"] = round(
        results["dask"]["seconds"] / results["local"]["seconds"], 2
    )
    print(f"identical outputs: {results['identical']} ({len(digests[0])} files)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
