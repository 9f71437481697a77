"""How fast `dedupe clean` is, and how much memory it needs, on the shapes that hurt.

Start-up: the seed article under 0.3 s wall including interpreter start
(baseline: `python -c pass`). Throughput and peak memory (issues 14 and 15)
of `dedupe clean -q FILE` as a user runs it, one core, on three shapes of
input, each next to `awk '!seen[$0]++'` on the same file in the same run:

* lines: many short lines (``--lines``, default 1,000,000: a word of the
  seed and a number below 1,000, about 9 MB);
* huge-line: one line of ``--huge-mb`` MB of the seed's words;
* paragraphs: an article-like text (``--paragraphs``, default 40,000, about
  11 MB: a third of the paragraphs repeated, half of those with edits).

Targets: >= 10 MB/s; peak memory <= 20x the input + 100 MB. Peak memory is
the maximum resident set of the command (GNU time, `/usr/bin/time`), interpreter
included.

    python benchmarks/clean_speed.py [--shapes lines,huge-line,paragraphs]
        [--lines N] [--huge-mb MB] [--paragraphs N] [--runs 7] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "samples" / "rudaw-article.txt"
SHAPES = ("lines", "huge-line", "paragraphs")
GNU_TIME = "/usr/bin/time"


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


def short_lines(count: int, seed: int) -> str:
    """``count`` lines of a word of the seed and a number below 1,000."""
    rng = random.Random(seed)
    words = SEED.read_text(encoding="utf-8").split()
    return "".join(f"{rng.choice(words)} {i % 1000}\n" for i in range(count))


def huge_line(mb: float, seed: int) -> str:
    """One line of about ``mb`` MB of the seed's words, and a final newline."""
    rng = random.Random(seed)
    words = SEED.read_text(encoding="utf-8").split()
    parts: list[str] = []
    size = 0
    while size < mb * 1e6:
        word = rng.choice(words)
        parts.append(word)
        size += len(word.encode("utf-8")) + 1
    return " ".join(parts) + "\n"


def measure(cmd: list[str]) -> dict[str, float]:
    """Wall seconds, CPU seconds (user + system: what a busy machine changes
    least) and peak resident memory (MB) of ``cmd``, its output thrown away.

    The peak comes from GNU time: the kernel's peak of a child forked from
    this process counts this process's own memory, text included, in it."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.run(
            [GNU_TIME, "-f", "%M %U %S", *cmd],
            stdout=subprocess.DEVNULL,
            stderr=err,
            check=False,
        )
        seconds = time.perf_counter() - start
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {' / '.join(lines)}")
    peak_kb, user, system = lines[-1].split()
    return {
        "seconds": seconds,
        "cpu_seconds": float(user) + float(system),
        "peak_mb": int(peak_kb) / 1024,
    }


def run_shape(name: str, text: str, dedupe: str) -> dict[str, Any]:
    """``dedupe clean -q`` and awk on ``text``, written to a temporary file."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(text)
        path = Path(f.name)
    try:
        mb = path.stat().st_size / 1e6
        row: dict[str, Any] = {"shape": name, "mb": mb, "lines": text.count("\n")}
        ours = measure([dedupe, "clean", "-q", str(path)])
        row |= {
            "seconds": ours["seconds"],
            "cpu_seconds": ours["cpu_seconds"],
            "mb_per_s": mb / ours["seconds"],
            "peak_mb": ours["peak_mb"],
            "peak_target_mb": 20 * mb + 100,
        }
        awk = shutil.which("awk")
        if awk:
            theirs = measure([awk, "!seen[$0]++", str(path)])
            row |= {
                "awk_seconds": theirs["seconds"],
                "awk_cpu_seconds": theirs["cpu_seconds"],
                "awk_mb_per_s": mb / theirs["seconds"],
                "awk_peak_mb": theirs["peak_mb"],
            }
        return row
    finally:
        path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated: %(default)s")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--huge-mb", type=float, default=10.0)
    parser.add_argument("--paragraphs", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=7, help="runs of the start-up timing")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/clean_speed.json")
    args = parser.parse_args(argv)
    shapes = [s for s in args.shapes.split(",") if s]
    unknown = sorted(set(shapes) - set(SHAPES))
    if unknown:
        parser.error(f"unknown shape(s): {', '.join(unknown)}; choose from {', '.join(SHAPES)}")

    dedupe = str(Path(sys.executable).with_name("dedupe"))
    startup = {
        "dedupe_clean_seed_s": wall([dedupe, "clean", str(SEED)], args.runs),
        "python_start_s": wall([sys.executable, "-c", "pass"], args.runs),
    }
    startup["ratio_to_python_start"] = startup["dedupe_clean_seed_s"] / startup["python_start_s"]
    print(f"seed, dedupe clean (wall, incl. interpreter): {startup['dedupe_clean_seed_s']:.3f} s")
    print(f"python -c pass:                              {startup['python_start_s']:.3f} s")

    makers = {
        "lines": lambda: short_lines(args.lines, args.seed),
        "huge-line": lambda: huge_line(args.huge_mb, args.seed),
        "paragraphs": lambda: article_like(args.paragraphs, args.seed),
    }
    rows = []
    nan = float("nan")
    print(
        f"{'shape':<11} {'MB':>6} {'s':>7} {'cpu s':>7} {'MB/s':>6} {'peak MB':>8} {'target':>7}"
        f" | {'awk s':>6} {'awk MB/s':>8} {'awk peak':>8}"
    )
    for name in shapes:
        row = run_shape(name, makers[name](), dedupe)
        rows.append(row)
        print(
            f"{name:<11} {row['mb']:6.1f} {row['seconds']:7.2f} {row['cpu_seconds']:7.2f}"
            f" {row['mb_per_s']:6.2f}"
            f" {row['peak_mb']:8.0f} {row['peak_target_mb']:7.0f}"
            f" | {row.get('awk_seconds', nan):6.2f}"
            f" {row.get('awk_mb_per_s', nan):8.1f} {row.get('awk_peak_mb', nan):8.0f}"
        )

    report = {"startup": startup, "shapes": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
