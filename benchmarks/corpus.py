"""Throughput and memory of ``dedupe corpus`` on a generated corpus.

The corpus (seeded): ``--docs`` JSON Lines records of about ``--doc-bytes``
of text in paragraphs of ~60 words over a Zipf-like vocabulary, from
``--sites`` sites whose pages end in a three-line site footer (boilerplate);
``--near-rate`` of the documents are copies of an earlier one with 2% of the
words replaced, ``--copy-rate`` exact copies. It is written once into
``--data-dir`` and reused.

Measured for each worker count in ``--workers``:

* the signature stage alone: workers read and parse their partitions of the
  input, MinHash signatures reduced to band keys
  (:func:`dedupe.corpus.near_duplicates.sign_chunk`), nothing kept;
* ``dedupe corpus`` with every stage (``all``) and with the near-duplicate
  stage only (``near``): wall time, documents and MB per second, the ratio
  to the signature stage, stage timings, peak resident memory of the main
  process and of a worker, documents and bytes removed.

Speed-up is the one-worker time over the N-worker time. The headline run is
``--docs 1000000``; smaller runs (``--docs 50000``) finish in minutes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from dedupe.cleaning.pipeline import CleanOptions
from dedupe.core.candidates import BandChoice
from dedupe.core.minhash import use_compiled
from dedupe.corpus.boilerplate import BoilerplateOptions
from dedupe.corpus.executors import make_executor
from dedupe.corpus.near_duplicates import ChunkBands, NearDupOptions, SignTask, sign_chunk
from dedupe.corpus.pipeline import CorpusOptions, write_corpus
from dedupe.io.sources import Partition, open_source, records_of

DEFAULT_DATA = Path.home() / ".cache" / "dedupe-bench" / "generated"
DEFAULT_OUT = Path(__file__).parent / "results" / "corpus.json"
_PARAGRAPH_WORDS = 60


def generate(
    path: Path,
    *,
    docs: int,
    doc_bytes: int,
    sites: int,
    near_rate: float,
    copy_rate: float,
    seed: int,
) -> None:
    """Write the seeded corpus to ``path`` (via a temporary file)."""
    rng = np.random.default_rng(seed)
    vocab_size = 60_000
    letters = np.array(list("etaoinshrdlucmfwypvbgkjqxz"))
    lengths = rng.integers(2, 10, size=vocab_size)
    vocab = np.array(
        ["".join(rng.choice(letters, size=n)) + str(i % 7) for i, n in enumerate(lengths)]
    )
    weights = 1.0 / np.arange(1, vocab_size + 1) ** 0.9
    weights /= weights.sum()
    words_per_doc = max(doc_bytes // 6, 20)
    footers = [
        [
            f"Site {s} footer: all rights reserved, terms of use and privacy policy apply.",
            f"Follow site {s} on social media for more stories like this one.",
            "Comments are moderated and may take a while to appear.",
        ]
        for s in range(sites)
    ]
    recent: list[np.ndarray] = []
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as file:
        for d in range(docs):
            roll = rng.random()
            if recent and roll < near_rate + copy_rate:
                words = recent[int(rng.integers(len(recent)))].copy()
                if roll < near_rate:
                    edits = rng.random(len(words)) < 0.02
                    words[edits] = rng.choice(vocab_size, size=int(edits.sum()), p=weights)
            else:
                words = rng.choice(vocab_size, size=words_per_doc, p=weights)
            if len(recent) < 5000:
                recent.append(words)
            else:
                recent[int(rng.integers(5000))] = words
            tokens = vocab[words]
            paragraphs = [
                " ".join(tokens[i : i + _PARAGRAPH_WORDS])
                for i in range(0, len(tokens), _PARAGRAPH_WORDS)
            ]
            site = int(rng.integers(sites))
            text = "\n".join([*paragraphs, *footers[site]])
            record = {"id": f"d{d}", "url": f"https://site{site}.example/{d}", "text": text}
            file.write(json.dumps(record) + "\n")
    partial.rename(path)


@dataclass(frozen=True)
class SignPartition:
    partition: Partition
    options: NearDupOptions
    choice: BandChoice


def sign_partition(task: SignPartition) -> ChunkBands:
    """Read and parse a partition of the input, then sign its texts."""
    texts = tuple(r.text for r in records_of(task.partition))
    use_compiled()
    return sign_chunk(SignTask(texts, task.options, task.choice))


def signature_stage(path: Path, workers: int, chunk: int) -> dict[str, Any]:
    """Read, parse and sign every document (workers read their own
    partitions of the input, as ``dedupe corpus`` does); return time and rate."""
    source = open_source([path], id_field="id")
    options = NearDupOptions()
    choice = options.band_choice()
    executor = make_executor(workers)
    started = time.perf_counter()
    count = 0
    try:
        tasks = (SignPartition(p, options, choice) for p in source.partitions(chunk))
        for bands in executor.map(sign_partition, tasks):
            count += len(bands.signable)
    finally:
        executor.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "documents": count,
        "docs_per_second": round(count / seconds),
    }


def pipeline(path: Path, workers: int, chunk: int, stages: str, tmp: Path) -> dict[str, Any]:
    every = stages == "all"
    options = CorpusOptions(
        boilerplate=BoilerplateOptions() if every else None,
        clean=CleanOptions() if every else None,
        workers=workers,
        chunk_size=chunk,
        tmp_dir=tmp,
    )
    out_dir = tmp / f"out-{stages}-{workers}"
    started = time.perf_counter()
    summary = write_corpus(
        open_source([path], id_field="id"), out_dir, options=options, overwrite=True
    )
    seconds = time.perf_counter() - started
    shutil.rmtree(out_dir, ignore_errors=True)
    return {
        "seconds": round(seconds, 2),
        "docs_per_second": round(summary.documents_in / seconds),
        "mb_per_second": round(summary.bytes_in / seconds / 1e6, 2),
        "documents_in": summary.documents_in,
        "documents_out": summary.documents_out,
        "clusters": summary.clusters,
        "candidate_pairs": summary.candidate_pairs,
        "boilerplate_paragraphs": summary.boilerplate_paragraphs,
        "bytes_in": summary.bytes_in,
        "bytes_removed": {
            "near_dups": summary.bytes_removed.near_dups,
            "boilerplate": summary.bytes_removed.boilerplate,
            "clean": summary.bytes_removed.clean,
        },
        "timings": summary.timings,
        "peak_memory_mb": round(summary.peak_memory / 2**20),
        "peak_worker_memory_mb": round(summary.peak_worker_memory / 2**20),
    }


def _child(conn: Connection, fn: Callable[..., dict[str, Any]], args: tuple[Any, ...]) -> None:
    conn.send(fn(*args))
    conn.close()


def isolated(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``fn(*args)`` in a fresh process, so peak memory is this run's alone."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(child, fn, args))
    process.start()
    child.close()
    result: dict[str, Any] = parent.recv()
    process.join()
    return result


def add_corpus_arguments(parser: argparse.ArgumentParser, *, docs: int) -> None:
    """The flags that name the generated corpus and how it is run (shared with
    benchmarks/dask_corpus.py)."""
    parser.add_argument("--docs", type=int, default=docs)
    parser.add_argument("--doc-bytes", type=int, default=3000)
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--near-rate", type=float, default=0.1)
    parser.add_argument("--copy-rate", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tmp-dir", type=Path, default=None)


def corpus_file(args: argparse.Namespace) -> Path:
    """The generated corpus the flags name, made (and cached) on first use."""
    args.data_dir.mkdir(parents=True, exist_ok=True)
    path: Path = args.data_dir / f"corpus-{args.docs}-{args.doc_bytes}-{args.seed}.jsonl"
    if not path.exists():
        started = time.perf_counter()
        generate(
            path,
            docs=args.docs,
            doc_bytes=args.doc_bytes,
            sites=args.sites,
            near_rate=args.near_rate,
            copy_rate=args.copy_rate,
            seed=args.seed,
        )
        print(f"generated {path} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser, docs=1_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--stages", nargs="+", choices=["all", "near"], default=["all", "near"])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    path = corpus_file(args)
    results: dict[str, Any] = {
        "benchmark": "corpus",
        "docs": args.docs,
        "doc_bytes": args.doc_bytes,
        "input_mb": round(path.stat().st_size / 1e6, 1),
        "seed": args.seed,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "signatures": {},
        "pipeline": {},
    }
    with tempfile.TemporaryDirectory(prefix="dedupe-bench-", dir=args.tmp_dir) as tmp:
        for workers in args.workers:
            sig = isolated(signature_stage, path, workers, args.chunk_size)
            results["signatures"][str(workers)] = sig
            print(f"signatures, {workers} worker(s): {json.dumps(sig)}", flush=True)
            for stages in args.stages:
                run = isolated(pipeline, path, workers, args.chunk_size, stages, Path(tmp))
                run["ratio_to_signatures"] = round(run["seconds"] / sig["seconds"], 2)
                results["pipeline"].setdefault(stages, {})[str(workers)] = run
                print(f"{stages}, {workers} worker(s): {json.dumps(run)}", flush=True)
    for kind in ("signatures", *args.stages):
        table = results["signatures"] if kind == "signatures" else results["pipeline"][kind]
        if "1" in table and "2" in table:
            results.setdefault("speedup_2_workers", {})[kind] = round(
                table["1"]["seconds"] / table["2"]["seconds"], 2
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
