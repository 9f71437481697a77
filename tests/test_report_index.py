"""``dedupe clean --index X --site S``: each boilerplate cut reported once, in aligned columns."""

from __future__ import annotations

import random
import re
from pathlib import Path

from click.testing import CliRunner, Result

from dedupe.cli.main import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
LINES = (SAMPLES / "rudaw-article.txt").read_text(encoding="utf-8").split("\n")
WORDS = "the vote on roads schools water and power was delayed again by the council"


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_boilerplate_is_reported_once_in_aligned_columns(tmp_path: Path) -> None:
    index = tmp_path / "site.db"
    crawled = []
    for i in range(4):
        rng = random.Random(i)
        body = [" ".join(rng.choices(WORDS.split(), k=40)) for _ in range(4)]
        # The last page lacks the first footer lines: they are on 75% of the site.
        footer = LINES[23:29] if i < 3 else LINES[26:29]
        path = tmp_path / f"crawled{i}.txt"
        path.write_text("\n".join(body + footer), encoding="utf-8")
        crawled.append(path)
    assert run("index", "add", "--site", "www.rudaw.net", index, *crawled).exit_code == 0
    seed = tmp_path / "seed.txt"
    seed.write_text("\n".join(LINES), encoding="utf-8")

    plain = run("clean", seed)
    result = run("clean", "--index", index, "--site", "www.rudaw.net", seed)
    assert result.exit_code == 0
    report = result.stderr.splitlines()
    cut = [ln for ln in report if "of the site's documents" in ln]
    assert [re.findall(r"line (\d+)", ln) for ln in cut] == [[str(n)] for n in range(24, 30)]
    # Each cut once: no other line of the report names those lines.
    for n in range(24, 30):
        assert sum(f"line {n} " in ln or ln.endswith(f"line {n}") for ln in report) == 1
    assert {ln.index("% of") for ln in cut} == {cut[0].index("% of")}
    assert {ln.index("%") for ln in cut} == {cut[0].index("%")}
    assert any(" 75% of" in ln for ln in cut)
    assert any("100% of" in ln for ln in cut)
    # The rows of the repeated block are laid out as without the index.
    block_rows = [ln for ln in report if " repeats " in ln]
    assert block_rows == [ln for ln in plain.stderr.splitlines() if " repeats " in ln]
