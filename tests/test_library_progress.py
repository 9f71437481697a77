"""The corpus progress bars, rendered as a terminal would show them."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from dedupe.cli.corpus import CountColumn, RichProgress
from dedupe.corpus.pipeline import write_corpus
from dedupe.io.sources import open_source
from tests.test_corpus import corpus_file, crawl, planted


def test_each_bar_ends_on_what_its_stage_found(tmp_path: Path) -> None:
    source = open_source([corpus_file(tmp_path, planted()[0] + crawl())], id_field="id")
    console = Console(file=io.StringIO(), width=100, record=True)
    with RichProgress(console).shown() as progress:
        summary = write_corpus(source, tmp_path / "out", progress=progress)
    bars = {
        line.split()[0]: " ".join(line.split()[2:-1])
        for line in console.export_text().splitlines()
        if line.strip()
    }
    assert summary.candidate_pairs > 0
    assert summary.boilerplate_paragraphs > 0
    assert summary.clusters > 0
    assert bars == {
        "read": f"{summary.documents_in} documents",
        "candidates": f"{summary.candidate_pairs} pairs",
        "shingles": bars["shingles"],
        "verify": f"{summary.candidate_pairs}/{summary.candidate_pairs} pairs",
        "clusters": f"{summary.clusters} clusters",
        "boilerplate": f"{summary.boilerplate_paragraphs} paragraphs",
        "output": f"{summary.documents_out}/{summary.documents_out} documents",
    }
    assert re.fullmatch(r"(\d+)/\1 documents", bars["shingles"])


def test_a_stage_of_unknown_total_counts_without_a_question_mark() -> None:
    console = Console(file=io.StringIO(), width=100, record=True)
    bars = Progress(CountColumn(), console=console)
    reading = bars.add_task("read", total=None, known=False, unit="documents")
    verifying = bars.add_task("verify", total=40, known=True, unit="pairs")
    bars.advance(verifying, 4)
    column = CountColumn()
    assert column.render(bars.tasks[reading]).plain == "0 documents"
    assert column.render(bars.tasks[verifying]).plain == "4/40 pairs"
