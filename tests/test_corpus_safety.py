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


# ---- 2. an output never is, holds, or lies inside an input ----


def good_jsonl(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"text":"alpha beta gamma"}\n{"text":"delta epsilon"}\n')
    return path


def test_an_output_holding_the_input_is_refused_and_the_input_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    good = good_jsonl(data / "good.jsonl")
    before = good.read_bytes()
    line = one_error_line(run(str(good), "-o", str(data), "--overwrite"))
    assert "holds the input" in line
    assert good.read_bytes() == before
    assert sorted(p.name for p in data.iterdir()) == ["good.jsonl"]


def test_a_text_directory_written_onto_itself_is_refused(tmp_path: Path) -> None:
    td = tmp_path / "td"
    td.mkdir()
    (td / "a.txt").write_text("some text\n")
    line = one_error_line(run(str(td), "-o", str(td), "--overwrite"))
    assert "holds the input" in line
    assert (td / "a.txt").read_text() == "some text\n"
    assert sorted(p.name for p in td.iterdir()) == ["a.txt"]


def test_an_output_inside_the_input_directory_is_refused(tmp_path: Path) -> None:
    td = tmp_path / "td"
    td.mkdir()
    (td / "a.txt").write_text("some text\n")
    line = one_error_line(run(str(td), "-o", str(td / "out")))
    assert "lies inside the input" in line
    assert sorted(p.name for p in td.iterdir()) == ["a.txt"]


def test_an_output_reached_through_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    good = good_jsonl(data / "good.jsonl")
    (tmp_path / "link").symlink_to(data)
    before = good.read_bytes()
    one_error_line(run(str(good), "-o", str(tmp_path / "link"), "--overwrite"))
    one_error_line(run(str(tmp_path / "link" / "good.jsonl"), "-o", str(data), "--overwrite"))
    assert good.read_bytes() == before


def test_an_output_beside_the_input_is_fine(tmp_path: Path) -> None:
    good = good_jsonl(tmp_path / "data" / "good.jsonl")
    result = run(str(good), "-o", str(tmp_path / "data-out"))
    assert result.exit_code == 0, result.output
    assert texts_out(tmp_path / "data-out") == ["alpha beta gamma", "delta epsilon"]
