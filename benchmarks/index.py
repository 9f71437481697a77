"""The persistent near-duplicate index at scale: size, speed, memory, recall.

Builds a SQLite index the way a crawler does (``check_and_add`` per page,
with its site) from ``--docs`` synthetic news-like documents, a share of
which (``--dup-rate``) are planted near-duplicates of an earlier document
(about 1% of their words replaced, so exact Jaccard of 5-word shingles is
about 0.9). Text is generated from a Zipf-distributed vocabulary in
paragraphs, and every site appends its own footer paragraphs.

Reports: size on disk (and per document), ``check_and_add`` throughput while
building (wall clock, and per CPU second, which depends less on what else the
machine runs), then ``check`` throughput and latency p50/p99 on planted copies and
unseen documents, the peak RSS and the RSS as the index grows (memory must
stay flat: buckets live in SQLite, not in Python), and the quality against
exact ground truth: each planted copy's exact Jaccard with its original
decides whether it must be found (at or above the threshold; the LSH banding
may miss about 0.2% of pairs right at it) or may not be (below it; about 1%
word edits leave a few copies under 0.8); a match for an unplanted document
is a false match.

Run: ``python benchmarks/index.py --docs 20000`` (quick) or without
``--docs`` for the 1,000,000-document headline.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dedupe.core.normalize import normalize
from dedupe.core.shingles import ShingleOptions, shingle_set
from dedupe.core.verify import jaccard
from dedupe.index import NearDuplicateIndex

VOCABULARY = 40_000
EDIT_SHARE = 0.01
FOOTER_PARAGRAPHS = 3


@dataclass(frozen=True, slots=True)
class Corpus:
    """Deterministic synthetic documents: document ``i`` is the same on every call."""

    seed: int
    docs: int
    dup_rate: float
    sites: int
    words: int

    def vocabulary(self) -> list[str]:
        rng = np.random.default_rng(self.seed)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        lengths = rng.integers(2, 11, VOCABULARY)
        return ["".join(rng.choice(letters, n)) for n in lengths]

    def original_of(self, i: int) -> int | None:
        """The earlier document that document ``i`` is a planted copy of, if any."""
        rng = np.random.default_rng((self.seed, i, 1))
        if i == 0 or rng.random() >= self.dup_rate:
            return None
        return int(rng.integers(0, i))

    def root(self, i: int) -> int:
        """The document whose body document ``i`` carries (itself, unless planted)."""
        original = self.original_of(i)
        while original is not None:
            i, original = original, self.original_of(original)
        return i

    def site(self, i: int) -> str:
        return f"site{i % self.sites}.example"

    def _body(self, i: int, vocab: list[str]) -> list[list[int]]:
        rng = np.random.default_rng((self.seed, i, 0))
        n = int(rng.integers(self.words // 2, self.words * 3 // 2))
        ranks = np.minimum(rng.zipf(1.3, n), VOCABULARY) - 1
        # Shuffle ranks through a per-document offset so documents differ in
        # their common words too, not only in the rare ones.
        ids = (ranks * 7919 + int(rng.integers(0, 64))) % VOCABULARY
        cuts = np.cumsum(rng.integers(40, 90, n // 40 + 1))
        paragraphs = np.split(ids, cuts[cuts < n])
        return [p.tolist() for p in paragraphs if len(p)]

    def text(self, i: int, vocab: list[str]) -> str:
        root = self.root(i)
        body = self._body(root, vocab)
        if root != i:
            rng = np.random.default_rng((self.seed, i, 2))
            for paragraph in body:
                for k in np.flatnonzero(rng.random(len(paragraph)) < EDIT_SHARE):
                    paragraph[k] = int(rng.integers(0, VOCABULARY))
        site = self.site(root)
        footer = [
            f"Copyright {site}. All rights reserved. Terms of use and privacy policy ({k})."
            for k in range(FOOTER_PARAGRAPHS)
        ]
        lines = [" ".join(vocab[w] for w in p) for p in body]
        return "\n".join([*lines, *footer])


@dataclass(frozen=True, slots=True)
class Result:
    docs: int
    planted: int
    sites: int
    words_per_doc: int
    build_seconds: float
    build_cpu_seconds: float
    check_and_add_per_second: float
    check_and_add_per_cpu_second: float
    size_bytes: int
    bytes_per_doc: float
    checks: int
    check_per_second: float
    check_p50_ms: float
    check_p99_ms: float
    planted_found: int
    planted_at_threshold: int
    planted_found_at_threshold: int
    recall_at_threshold: float
    planted_below_threshold_found: int
    false_matches: int
    peak_rss_mb: float
    rss_mb_by_docs: dict[str, float]
    db: str


def _rss_mb() -> float:
    with Path("/proc/self/statm").open() as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000, help="documents to index")
    parser.add_argument("--dup-rate", type=float, default=0.1, help="share of planted copies")
    parser.add_argument("--sites", type=int, default=100, help="sites the documents come from")
    parser.add_argument("--words", type=int, default=300, help="mean words per document")
    parser.add_argument("--checks", type=int, default=2000, help="timed check() calls")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, help="index file (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary index")
    parser.add_argument(
        "--json", type=Path, default=Path(__file__).resolve().parent / "results" / "index.json"
    )
    args = parser.parse_args(argv)

    corpus = Corpus(args.seed, args.docs, args.dup_rate, args.sites, args.words)
    vocab = corpus.vocabulary()
    workdir = None
    if args.db is None:
        workdir = Path(tempfile.mkdtemp(prefix="dedupe-index-bench-"))
        db = workdir / "seen.db"
    else:
        db = args.db
        for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            stale.unlink(missing_ok=True)

    planted = found = false = 0
    # Ground truth for planted copies: exact Jaccard with the document they copy.
    at_threshold = found_at_threshold = found_below = 0
    shingling = ShingleOptions(size=5)
    rss: dict[str, float] = {}
    step = max(1, args.docs // 10)
    start = time.perf_counter()
    cpu_start = time.process_time()
    with NearDuplicateIndex(db) as index:
        for i in range(args.docs):
            original = corpus.original_of(i)
            text = corpus.text(i, vocab)
            match = index.check_and_add(f"doc{i}", text, site=corpus.site(corpus.root(i)))
            if original is not None:
                planted += 1
                found += match is not None
                root_text = corpus.text(corpus.root(i), vocab)
                similarity = jaccard(
                    shingle_set(normalize(text), shingling),
                    shingle_set(normalize(root_text), shingling),
                )
                if similarity >= index.params.threshold:
                    at_threshold += 1
                    found_at_threshold += match is not None
                else:
                    found_below += match is not None
            elif match is not None:
                false += 1
            if (i + 1) % step == 0:
                rss[str(i + 1)] = round(_rss_mb(), 1)
                rate = (i + 1) / (time.perf_counter() - start)
                print(f"{i + 1:>10,} docs  {rate:8.0f} docs/s  rss {rss[str(i + 1)]:.0f} MB")
        build = time.perf_counter() - start
        build_cpu = time.process_time() - cpu_start

        # Timed checks: half planted-style copies of indexed documents, half unseen.
        rng = np.random.default_rng(args.seed)
        probe_corpus = Corpus(args.seed + 1, args.docs, 0.0, args.sites, args.words)
        latencies = []
        for k in range(args.checks):
            if k % 2:
                text = probe_corpus.text(k, vocab)
            else:
                target = int(rng.integers(0, args.docs))
                text = corpus.text(target, vocab) + "\nUpdated at 12:00."
            t0 = time.perf_counter()
            index.check(text)
            latencies.append(time.perf_counter() - t0)
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))

    latencies.sort()
    result = Result(
        docs=args.docs,
        planted=planted,
        sites=args.sites,
        words_per_doc=args.words,
        build_seconds=round(build, 2),
        build_cpu_seconds=round(build_cpu, 2),
        check_and_add_per_second=round(args.docs / build, 1),
        check_and_add_per_cpu_second=round(args.docs / build_cpu, 1),
        size_bytes=size,
        bytes_per_doc=round(size / args.docs, 1),
        checks=len(latencies),
        check_per_second=round(len(latencies) / sum(latencies), 1),
        check_p50_ms=round(1000 * statistics.median(latencies), 3),
        check_p99_ms=round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 3),
        planted_found=found,
        planted_at_threshold=at_threshold,
        planted_found_at_threshold=found_at_threshold,
        recall_at_threshold=round(found_at_threshold / max(1, at_threshold), 5),
        planted_below_threshold_found=found_below,
        false_matches=false,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1),
        rss_mb_by_docs=rss,
        db=str(db),
    )
    if workdir is not None and not args.keep:
        shutil.rmtree(workdir)
    print(json.dumps(asdict(result), indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
