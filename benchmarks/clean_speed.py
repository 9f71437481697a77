"""How fast `dedupe clean` is: start-up on the seed article, and a 10 MB text.

Targets (issue 2): the seed under 0.3 s wall including interpreter start; a
10 MB article-like text (40,000 paragraphs, a third repeated with edits)
under 10 s and 500 MB peak memory on one core. Baselines in the same run:
`python -c pass` (interpreter start alone) and exact line dedup
(keep the first copy of each stripped line), the hand-rolled approach.

    python benchmarks/clean_speed.py [--paragraphs 40000] [--runs 7] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "samples" / "rudaw-article.txt"


def wall(cmd: list[str], runs: int) -> float:
    """Median wall seconds of ``cmd`` over ``runs`` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def article_like(paragraphs: int, seed: int) -> str:
    """``paragraphs`` paragraphs of 30-60 words from the seed's vocabulary; a
    third of them are copies of earlier ones, half of those with word edits."""
    rng = random.Random(seed)
    vocab = SEED.read_text(encoding="utf-8").split()
    made: list[str] = []
    for _ in range(paragraphs):
        if made and rng.random() < 1 / 3:
            words = rng.choice(made).split(" ")
            if rng.random() < 0.5:
                for _ in range(rng.randint(1, 2)):
                    words[rng.randrange(len(words))] = rng.choice(vocab)
            made.append(" ".join(words))
        else:
            made.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(30, 60))))
    return "\n".join(made) + "\n"


def exact_line_dedup(text: str) -> str:
    seen: set[str] = set()
    out = []
    for line in text.splitlines(keepends=True):
        key = line.strip()
        if key and key in seen:
            continue
        seen.add(key)
        out.append(line)
    return "".join(out)


def child_clean(path: str) -> None:
    """Run in a child process: clean ``path`` and print seconds and peak RSS."""
    from dedupe import clean

    text = Path(path).read_text(encoding="utf-8")
    start = time.perf_counter()
    result = clean(text)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "removed": len(result.removed)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/clean_speed.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_clean(args.child)
        return 0

    dedupe_cmd = [str(Path(sys.executable).with_name("dedupe")), "clean", str(SEED)]
    startup = {
        "dedupe_clean_seed_s": wall(dedupe_cmd, args.runs),
        "python_start_s": wall([sys.executable, "-c", "pass"], args.runs),
    }
    startup["ratio_to_python_start"] = startup["dedupe_clean_seed_s"] / startup["python_start_s"]

    text = article_like(args.paragraphs, args.seed)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(text)
        big = f.name
    out = subprocess.run(
        [sys.executable, __file__, "--child", big], check=True, capture_output=True, text=True
    )
    large: dict[str, Any] = json.loads(out.stdout)
    start = time.perf_counter()
    exact_line_dedup(text)
    large["exact_line_dedup_s"] = time.perf_counter() - start
    large["mb"] = len(text.encode("utf-8")) / 1e6
    large["paragraphs"] = args.paragraphs
    large["ratio_to_exact_line_dedup"] = large["seconds"] / large["exact_line_dedup_s"]
    Path(big).unlink()

    report = {"startup": startup, "large": large}
    print(f"seed, dedupe clean (wall, incl. interpreter): {startup['dedupe_clean_seed_s']:.3f} s")
    print(f"python -c pass:                              {startup['python_start_s']:.3f} s")
    print(
        f"{large['mb']:.1f} MB, {args.paragraphs} paragraphs: {large['seconds']:.2f} s, "
        f"peak {large['peak_mb']:.0f} MB, {large['removed']} removed "
        f"(exact line dedup: {large['exact_line_dedup_s']:.3f} s)"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
