"""dedupe corpus loses nothing, whatever comes in: output names, outputs onto
inputs, corrupt archives, odd text, odd files, killed runs (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dedupe.cli import main


def run(*args: str) -> Result:
    """``dedupe corpus ARGS`` through the top-level command, one worker, quiet."""
    return CliRunner().invoke(
        main, ["corpus", "-q", "--workers", "1", *args], catch_exceptions=False
    )


def one_error_line(result: Result) -> str:
    """The single ``dedupe: error:`` line of a failed run (exit 2, no traceback)."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dedupe: error: ")
    return lines[0]


def texts_out(out: Path) -> list[str]:
    """Every text field written under ``out/corpus``, sorted."""
    return sorted(
        json.loads(line)["text"]
        for path in (out / "corpus").iterdir()
        for line in path.read_text(encoding="utf-8").splitlines()
    )


# ---- 1. output names never collide ----


def test_inputs_with_one_name_and_an_input_named_like_the_renamed_one_all_survive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The layout of the issue: b/x.jsonl used to be renamed 2-x.jsonl,
    # overwriting the output of the input 2-x.jsonl.
    monkeypatch.chdir(tmp_path)
    Path("2-x.jsonl").write_text('{"text":"one"}\n')
    Path("a").mkdir()
    Path("b").mkdir()
    Path("a/x.jsonl").write_text('{"text":"two"}\n')
    Path("b/x.jsonl").write_text('{"text":"three"}\n')
    result = run("2-x.jsonl", "a/x.jsonl", "b/x.jsonl", "-o", "o")
    assert result.exit_code == 0, result.output
    assert texts_out(Path("o")) == ["one", "three", "two"]
    assert len(list(Path("o/corpus").iterdir())) == 3
    assert (Path("o/corpus/2-x.jsonl")).read_text() == '{"text":"one"}\n'
    assert (Path("o/corpus/x.jsonl")).read_text() == '{"text":"two"}\n'
    summary = json.loads(Path("o/summary.json").read_text())
    assert summary["documents_out"] == 3


def test_output_names_differ_even_by_case_only_and_keep_their_first_owner() -> None:
    from dedupe.readers import _output_names

    paths = [Path(p) for p in ("a/x.jsonl", "b/X.jsonl", "c/1-x.jsonl", "d/x.jsonl")]
    names = _output_names(paths)
    assert names[0] == "x.jsonl"
    assert names[2] == "1-x.jsonl"
    assert len({n.casefold() for n in names}) == 4
