"""MinHash signature throughput and accuracy, and the batch LSH path, side by side.

Signatures (one process run, the same texts in memory for everyone):

* datasketch ``MinHash.update`` per shingle and ``MinHash.bulk``
  (``update_batch``), both with an XXH3 ``hashfunc`` and the ``affine32`` scheme;
* rensa ``RMinHash`` (one object per document, ``update`` + ``digest``) and
  rensa's batch ``RMinHash.digest_matrix_from_token_sets``;
* :func:`dedupe.signatures` with 1 and 2 workers.

The baselines get lowercase, whitespace-split word 5-grams built in Python
(the cheapest tokenisation a caller would write); dedupe does its full
normalisation (NFKC, case folding, punctuation, URLs, CJK/Thai tokens) from
the raw text. Throughput is UTF-8 megabytes of input per second (best of
``--repeat``), each measurement in a forked child so that its peak memory
(high-water resident set above the child's start) is its own; for dedupe
with 2 workers that is the calling process only, not the workers. The two
slowest baselines run on the first ``--slow-mb`` megabytes of the same
corpus.

Accuracy: ``--pairs`` documents of at least 60 words, each against a copy
with 5-20% of its words edited (replaced, deleted or inserted); mean absolute
error of each method's estimate against the exact Jaccard of that method's
own shingle sets.

LSH (``--lsh-docs`` documents cut from the same corpus, at least 20 words
each): the band join of :mod:`dedupe.core.candidates` with ``choose_bands(0.8,
num_perm)`` against datasketch ``MinHashLSH(threshold=0.8)`` fed the same
signatures; build ("insert") and candidate-finding ("query") documents per
second, memory, and recall of the pairs whose exact Jaccard is >= 0.8
(all pairs by prefix filtering, see ``corpus_quality.exact_pairs``): pairs
proposed directly, and for the band join, which links a bucket's members to
a few others only, also pairs connected through proposed pairs.

Corpus: SpamAssassin message bodies and Linux kernel documentation 6.1 and
6.12 (see ``corpus_quality.py``; downloaded once into ``--cache``), shuffled
with ``--seed`` and repeated when shorter than ``--mb``.

Run from the repository root: ``python -m benchmarks.signatures``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import multiprocessing
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from xxhash import xxh3_64_intdigest

import dedupe
from benchmarks.corpus_quality import (
    DEFAULT_CACHE,
    connected_recall,
    exact_pairs,
    linux_docs,
    spam_assassin,
)
from dedupe.core.candidates import band_keys, candidate_pairs, choose_bands
from dedupe.core.minhash import jaccard_estimate, to_lean_minhash
from dedupe.core.normalize import normalize
from dedupe.core.shingles import ShingleOptions, as_array, shingle_set

DEFAULT_OUT = Path(__file__).parent / "results" / "signatures.json"
THRESHOLD = 0.8


@dataclass(frozen=True, slots=True)
class Run:
    """One timed measurement; ``cpu_seconds`` counts worker processes too,
    ``cpu_seconds_workers`` only them."""

    name: str
    mb: float
    docs: int
    seconds: float
    mb_per_s: float
    docs_per_s: float
    cpu_seconds: float
    cpu_seconds_workers: float
    peak_extra_mb: float


# ---- corpus ----


def load_corpus(cache: Path, mb: float, seed: int) -> list[str]:
    """Real texts, shuffled, repeated up to ``mb`` megabytes of UTF-8 (cut at a document)."""
    texts = spam_assassin(cache).texts + linux_docs(cache).texts
    random.Random(seed).shuffle(texts)
    out: list[str] = []
    total = 0.0
    while total < mb * 1e6:
        for text in texts:
            out.append(text)
            total += len(text.encode("utf-8"))
            if total >= mb * 1e6:
                break
    return out


def utf8_mb(texts: Sequence[str]) -> float:
    return sum(len(t.encode("utf-8")) for t in texts) / 1e6


def word_shingles(text: str, ngram: int) -> list[str]:
    """The baselines' shingles: lowercase whitespace-split word n-grams."""
    words = text.lower().split()
    if len(words) < ngram:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]


def xxh32(data: bytes) -> int:
    return xxh3_64_intdigest(data) & 0xFFFFFFFF


# ---- measuring ----


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process and of its reaped children."""
    times = os.times()
    return times.user + times.system, times.children_user + times.children_system


def _child(fn: Callable[[], object], conn: Any) -> None:
    # Memory the parent freed would be reused without counting as new: give
    # it back first. A forked child starts with its parent's high-water mark;
    # "5" resets it.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    start_kb = _status_kb("VmRSS")
    cpu = _cpu_seconds()
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    # Workers left to exit on their own still count towards the CPU time.
    for worker in multiprocessing.active_children():
        worker.join()
    own, workers = (end - start for end, start in zip(_cpu_seconds(), cpu, strict=True))
    conn.send((seconds, own, workers, (_status_kb("VmHWM") - start_kb) / 1e3))
    conn.close()


@dataclass(frozen=True, slots=True)
class Case:
    """Something to time: ``fn`` works through ``texts``."""

    name: str
    fn: Callable[[], object]
    texts: Sequence[str]


def measure(cases: Sequence[Case], repeat: int) -> list[Run]:
    """Best wall time of ``repeat`` runs of each case, each run in a forked
    child. Rounds go through all cases in turn, so that a change in the
    machine's load falls on all of them alike."""
    context = multiprocessing.get_context("fork")
    best: dict[str, tuple[float, float, float, float]] = {}
    for _ in range(repeat):
        for case in cases:
            parent, child = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(case.fn, child))
            process.start()
            result: tuple[float, float, float, float] = parent.recv()
            process.join()
            if case.name not in best or result[0] < best[case.name][0]:
                best[case.name] = result
    runs = []
    for case in cases:
        seconds, own_cpu, workers_cpu, extra = best[case.name]
        mb = utf8_mb(case.texts)
        run = Run(
            name=case.name,
            mb=round(mb, 2),
            docs=len(case.texts),
            seconds=round(seconds, 3),
            mb_per_s=round(mb / seconds, 2),
            docs_per_s=round(len(case.texts) / seconds, 1),
            cpu_seconds=round(own_cpu + workers_cpu, 3),
            cpu_seconds_workers=round(workers_cpu, 3),
            peak_extra_mb=round(extra, 1),
        )
        print(
            f"  {run.name:<34} {run.mb:>6.1f} MB {run.seconds:>7.2f} s {run.mb_per_s:>7.2f} MB/s"
            f" {run.docs_per_s:>9.0f} docs/s {run.cpu_seconds:>7.2f} cpu-s"
            f" {run.peak_extra_mb:>7.1f} MB peak",
            flush=True,
        )
        runs.append(run)
    return runs


# ---- the implementations ----


def datasketch_update(texts: Sequence[str], num_perm: int, ngram: int, seed: int) -> None:
    from datasketch import MinHash

    for text in texts:
        m = MinHash(num_perm, seed=seed, scheme="affine32", hashfunc=xxh32)
        for shingle in word_shingles(text, ngram):
            m.update(shingle.encode("utf-8"))


def datasketch_bulk(texts: Sequence[str], num_perm: int, ngram: int, seed: int) -> None:
    from datasketch import MinHash

    batches = ([s.encode("utf-8") for s in word_shingles(t, ngram)] for t in texts)
    MinHash.bulk(batches, num_perm=num_perm, seed=seed, scheme="affine32", hashfunc=xxh32)


def rensa_objects(texts: Sequence[str], num_perm: int, ngram: int, seed: int) -> None:
    from rensa import RMinHash

    for text in texts:
        m = RMinHash(num_perm, seed)
        m.update(word_shingles(text, ngram))
        m.digest()


def rensa_matrix(texts: Sequence[str], num_perm: int, ngram: int, seed: int) -> None:
    from rensa import RMinHash

    sets = (word_shingles(t, ngram) for t in texts)
    RMinHash.digest_matrix_from_token_sets(sets, num_perm, seed)


# ---- accuracy ----


def edited_pairs(texts: Sequence[str], count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` documents of >= 60 words, each with a copy with 5-20% of words edited."""
    rng = random.Random(seed)
    pool = [t for t in dict.fromkeys(texts) if len(t.split()) >= 60]
    pairs = []
    for text in rng.sample(pool, min(count, len(pool))):
        words = text.split()
        rate = rng.uniform(0.05, 0.20)
        edited: list[str] = []
        for word in words:
            if rng.random() >= rate:
                edited.append(word)
                continue
            action = rng.randrange(3)
            if action == 0:
                edited.append(rng.choice(words))
            elif action == 2:
                edited.extend((word, rng.choice(words)))
        pairs.append((" ".join(words), " ".join(edited)))
    return pairs


def _jaccard(a: set[str] | frozenset[int], b: set[str] | frozenset[int]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def accuracy(
    pairs: Sequence[tuple[str, str]], num_perm: int, ngram: int, seed: int
) -> dict[str, float]:
    """Mean absolute error of each method's Jaccard estimate against its exact Jaccard."""
    from datasketch import MinHash
    from rensa import RMinHash

    errors: dict[str, list[float]] = {"datasketch": [], "rensa": [], "dedupe": []}
    flat = [t for pair in pairs for t in pair]
    sigs = dedupe.signatures(flat, num_perm=num_perm, ngram=ngram, seed=seed)
    options = ShingleOptions(size=ngram)
    for i, (a, b) in enumerate(pairs):
        sa, sb = set(word_shingles(a, ngram)), set(word_shingles(b, ngram))
        exact = _jaccard(sa, sb)
        ds = []
        rs = []
        for shingles in (sa, sb):
            m = MinHash(num_perm, seed=seed, scheme="affine32", hashfunc=xxh32)
            m.update_batch([s.encode("utf-8") for s in shingles])
            ds.append(m)
            r = RMinHash(num_perm, seed)
            r.update(list(shingles))
            rs.append(r)
        errors["datasketch"].append(abs(ds[0].jaccard(ds[1]) - exact))
        errors["rensa"].append(abs(rs[0].jaccard(rs[1]) - exact))
        da, db = (shingle_set(normalize(t), options) for t in (a, b))
        estimate = jaccard_estimate(sigs[2 * i], sigs[2 * i + 1])
        errors["dedupe"].append(abs(estimate - _jaccard(da, db)))
    return {name: round(float(np.mean(v)), 4) for name, v in errors.items()}


# ---- LSH ----


def lsh_documents(texts: Sequence[str], count: int, seed: int) -> list[str]:
    """Documents of at least 20 words cut from the corpus at blank lines."""
    pieces: list[str] = []
    for text in dict.fromkeys(texts):
        current: list[str] = []
        words = 0
        for block in text.split("\n\n"):
            current.append(block)
            words += len(block.split())
            if words >= 20:
                pieces.append("\n\n".join(current))
                current, words = [], 0
    random.Random(seed).shuffle(pieces)
    return pieces[:count]


def _pair_set(pairs: npt.NDArray[np.int64]) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in pairs.tolist()}


def lsh(docs: list[str], num_perm: int, ngram: int, seed: int) -> dict[str, Any]:
    sigs = dedupe.signatures(docs, num_perm=num_perm, ngram=ngram, seed=seed)
    options = ShingleOptions(size=ngram)
    sets = [as_array(shingle_set(normalize(d), options)) for d in docs]
    truth = _pair_set(exact_pairs(sets, THRESHOLD)[0])
    choice = choose_bands(THRESHOLD, num_perm)
    n = len(docs)
    out: dict[str, Any] = {
        "docs": n,
        "true_pairs": len(truth),
        "band_choice": f"{choice.bands} bands x {choice.rows} rows",
    }

    def band_join() -> object:
        return candidate_pairs(sigs, choice)

    def keys_only() -> object:
        return band_keys(sigs, choice)

    join_run, keys_run = measure(
        [
            Case("dedupe band join (keys + pairs)", band_join, docs),
            Case("dedupe band keys", keys_only, docs),
        ],
        1,
    )
    joined = candidate_pairs(sigs, choice)
    found = _pair_set(joined)
    query_seconds = max(join_run.seconds - keys_run.seconds, 1e-9)
    out["dedupe_band_join"] = {
        "insert_docs_per_s": round(n / keys_run.seconds),
        "query_docs_per_s": round(n / query_seconds),
        "keys_mb": round(band_keys(sigs, choice).nbytes / 1e6, 1),
        "peak_extra_mb": join_run.peak_extra_mb,
        "candidate_pairs": len(found),
        "recall": round(len(found & truth) / len(truth), 4) if truth else 1.0,
        # The join pairs each bucket member with a few others only (star
        # edges); a true pair counts here when the two are connected.
        "connected_recall": connected_recall(n, joined, truth),
    }

    from datasketch import MinHashLSH

    leans = [to_lean_minhash(row, seed=seed) for row in sigs]
    for label, params in (("datasketch_default", None), ("datasketch_project_bands", choice)):

        def insert(params: Any = params) -> Any:
            index = (
                MinHashLSH(threshold=THRESHOLD, num_perm=num_perm)
                if params is None
                else MinHashLSH(num_perm=num_perm, params=(params.bands, params.rows))
            )
            for i, lean in enumerate(leans):
                index.insert(i, lean)
            return index

        (insert_run,) = measure([Case(f"{label} insert", insert, docs)], 1)
        index = insert()
        started = time.perf_counter()
        ds_found: set[tuple[int, int]] = set()
        for i, lean in enumerate(leans):
            ds_found.update((min(i, j), max(i, j)) for j in index.query(lean) if j != i)
        query_seconds = time.perf_counter() - started
        out[label] = {
            "bands": index.b,
            "rows": index.r,
            "insert_docs_per_s": round(n / insert_run.seconds),
            "query_docs_per_s": round(n / query_seconds),
            "peak_extra_mb": insert_run.peak_extra_mb,
            "candidate_pairs": len(ds_found),
            "recall": round(len(ds_found & truth) / len(truth), 4) if truth else 1.0,
        }
    return out


# ---- report ----


def machine() -> dict[str, str]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    return {
        "python": platform.python_version(),
        "lscpu": "\n".join(lscpu.splitlines()[:10]),
        "numpy": np.__version__,
    }


def _ratios(runs: list[Run], baseline: str) -> Iterator[tuple[str, float]]:
    base = next(r for r in runs if r.name == baseline)
    for run in runs:
        yield run.name, round(run.mb_per_s / base.mb_per_s, 2)


def _cpu_ratios(runs: list[Run], baseline: str) -> Iterator[tuple[str, float]]:
    """Throughput per CPU second against ``baseline``'s: steadier than wall
    time on a busy machine, and meaningful for one process only."""
    base = next(r for r in runs if r.name == baseline)
    for run in runs:
        yield run.name, round((run.mb / run.cpu_seconds) / (base.mb / base.cpu_seconds), 2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="corpus size in MB (default 100)")
    parser.add_argument("--slow-mb", type=float, default=3.0, help="MB for datasketch update")
    parser.add_argument("--bulk-mb", type=float, default=20.0, help="MB for datasketch bulk")
    parser.add_argument("--pairs", type=int, default=1000, help="edited pairs for the error")
    parser.add_argument("--lsh-docs", type=int, default=100_000, help="documents for LSH")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best kept")
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--ngram", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="download cache")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result path")
    args = parser.parse_args(argv)

    texts = load_corpus(args.cache, args.mb, args.seed)
    print(f"corpus: {utf8_mb(texts):.1f} MB, {len(texts)} documents", flush=True)
    params = (args.num_perm, args.ngram, args.seed)

    # Loaded (and compiled, if numba's cache is cold) before any timing.
    started = time.perf_counter()
    dedupe.signatures(texts[:1000], num_perm=args.num_perm, ngram=args.ngram, seed=args.seed)
    warm_up = time.perf_counter() - started

    slow = load_corpus(args.cache, args.slow_mb, args.seed)
    bulk = load_corpus(args.cache, args.bulk_mb, args.seed)
    runs = measure(
        [
            Case(
                "datasketch update (per shingle)", partial(datasketch_update, slow, *params), slow
            ),
            Case("datasketch bulk (update_batch)", partial(datasketch_bulk, bulk, *params), bulk),
        ],
        1,
    )
    fast = [
        Case("rensa RMinHash", partial(rensa_objects, texts, *params), texts),
        Case("rensa digest_matrix", partial(rensa_matrix, texts, *params), texts),
    ]
    for workers in (1, 2):
        sign = partial(dedupe.signatures, texts, workers=workers)
        label = f"dedupe signatures, {workers} worker{'s' if workers > 1 else ''}"
        fast.append(
            Case(
                label,
                partial(sign, num_perm=args.num_perm, ngram=args.ngram, seed=args.seed),
                texts,
            )
        )
    runs += measure(fast, args.repeat)
    to_rensa = dict(_ratios(runs, "rensa RMinHash"))
    to_rensa_matrix = dict(_ratios(runs, "rensa digest_matrix"))
    to_bulk = dict(_ratios(runs, "datasketch bulk (update_batch)"))
    to_rensa_cpu = dict(_cpu_ratios(runs, "rensa RMinHash"))
    print(
        "ratios (MB/s) to rensa RMinHash / rensa digest_matrix / datasketch bulk;"
        " MB per CPU second to rensa RMinHash:"
    )
    for run in runs:
        print(
            f"  {run.name:<34} {to_rensa[run.name]:>6.2f} {to_rensa_matrix[run.name]:>6.2f}"
            f" {to_bulk[run.name]:>7.2f} {to_rensa_cpu[run.name]:>7.2f}"
        )

    pairs = edited_pairs(texts, args.pairs, args.seed)
    mae = accuracy(pairs, *params)
    print(f"Jaccard MAE over {len(pairs)} edited pairs: {mae}", flush=True)

    docs = lsh_documents(texts, args.lsh_docs, args.seed)
    print(f"LSH on {len(docs)} documents:", flush=True)
    lsh_result = lsh(docs, *params)
    print(json.dumps(lsh_result, indent=2))

    result = {
        "machine": machine(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "corpus_mb": round(utf8_mb(texts), 2),
        "corpus_docs": len(texts),
        "dedupe_warm_up_s": round(warm_up, 3),
        "signatures": [asdict(r) for r in runs],
        "ratio_to_rensa": to_rensa,
        "ratio_to_rensa_matrix": to_rensa_matrix,
        "ratio_to_datasketch_bulk": to_bulk,
        "cpu_ratio_to_rensa": to_rensa_cpu,
        "load_average_after": os.getloadavg(),
        "jaccard_mae": {**mae, "pairs": len(pairs)},
        "lsh": lsh_result,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
