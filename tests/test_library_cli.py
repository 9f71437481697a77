"""One vocabulary across commands: option spellings, help defaults, errors
that name the option typed, clear errors for wrong library arguments."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner

import dedupe
from dedupe.cli.common import error_message
from dedupe.cli.main import main
from dedupe.corpus.executors import SerialExecutor
from dedupe.corpus.pipeline import dedupe_corpus
from dedupe.errors import InputError, OptionsError
from tests.test_corpus import corpus_file, outputs, planted

T = TypeVar("T")
R = TypeVar("R")
ROOT = Path(__file__).resolve().parents[1]
RUDAW = ROOT / "samples" / "rudaw-article.txt"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [("clean",), ("corpus",), ("index", "add")])
def test_both_shingle_spellings_on_every_command(command: tuple[str, ...]) -> None:
    code, help_text, _ = invoke(*command, "--help")
    assert code == 0
    assert "--ngram" in help_text
    assert "--shingle-size" in help_text


def test_ngram_and_shingle_size_mean_the_same(tmp_path: Path) -> None:
    by_size = invoke("clean", "--shingle-size", "2", str(RUDAW))
    assert by_size[0] == 0
    assert invoke("clean", "--ngram", "2", str(RUDAW)) == by_size
    # --ngram sets the shingle size: out of range, it is refused as that.
    assert invoke("clean", "--ngram", "0", str(RUDAW))[2] == (
        "dedupe: error: --shingle-size must be at least 1, not 0\n"
    )
    path = corpus_file(tmp_path, planted()[0][:30])
    for name, flag in (("a", "--ngram"), ("b", "--shingle-size")):
        code, _, stderr = invoke("corpus", "-q", str(path), "-o", str(tmp_path / name), flag, "3")
        assert code == 0, stderr
    assert outputs(tmp_path / "a") == outputs(tmp_path / "b")
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["parameters"]["near_dups"]["ngram"] == 3
    index = str(tmp_path / "seen.db")
    assert invoke("index", "add", "-q", "--shingle-size", "4", index, str(RUDAW))[0] == 0
    _, stats, _ = invoke("index", "stats", index)
    assert "of 4-word shingle sets" in stats, stats


def help_texts() -> Iterator[tuple[str, str]]:
    for command in (["clean"], ["corpus"], ["index", "add"], ["index", "check"]):
        code, text, _ = invoke(*command, "--help")
        assert code == 0
        yield " ".join(command), text


def test_defaults_in_help_read_default_colon_everywhere() -> None:
    for command, text in help_texts():
        flat = " ".join(text.split())
        # "[0.8]" beside "[default: 0.8]" elsewhere: one style.
        assert not re.search(r"\[\d[^\]]*\]", flat), (command, flat)
    index_help = " ".join(dict(help_texts())["index add"].split())
    assert "[default: 0.8;" in index_help
    assert "[default: 128;" in index_help


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["clean", "--num-perm", "0"], "--num-perm must be between 1 and 4096, not 0"),
        (["clean", "--shingle-size", "0"], "--shingle-size must be at least 1, not 0"),
        (["clean", "--min-words", "-1"], "--min-words must be 0 or more, not -1"),
    ],
)
def test_errors_name_the_option_typed(args: list[str], message: str) -> None:
    code, _, stderr = invoke(*args, str(RUDAW))
    assert (code, stderr) == (2, f"dedupe: error: {message}\n")


def test_index_options_out_of_range_are_usage_errors_naming_the_option(tmp_path: Path) -> None:
    index = str(tmp_path / "seen.db")
    code, _, stderr = invoke("index", "add", "--num-perm", "0", index, str(RUDAW))
    assert code == 2
    assert "'--num-perm': 0 is not in the range 1<=x<=4096" in stderr
    assert "num_perm" not in stderr
    assert not (tmp_path / "seen.db").exists()


def test_library_parameter_names_map_to_options() -> None:
    cases = {
        "num_perm must be between 1 and 4096, not 0": "--num-perm must be between 1 and "
        "4096, not 0",
        "boilerplate min docs must be at least 2, not 1": "--boilerplate-min-docs must be at "
        "least 2, not 1",
        "paragraph mode must be one of auto, line, not 'x'": "--mode must be one of auto, line, "
        "not 'x'",
        # Only at the start, and only in option errors.
        "an ngram threshold must be kept": "an ngram threshold must be kept",
    }
    for library, cli in cases.items():
        assert error_message(OptionsError(library)) == cli
    assert error_message(InputError("num_perm must be x")) == "num_perm must be x"


def test_clean_of_bytes_says_it_wants_str() -> None:
    with pytest.raises(TypeError, match=r"^clean\(\) expected str, not bytes \(decode"):
        dedupe.clean(b"some text")  # type: ignore[arg-type]


def test_a_bad_mode_or_keep_lists_the_valid_ones() -> None:
    with pytest.raises(OptionsError, match=r"^mode must be one of 'auto', 'line', 'blank-line'"):
        dedupe.clean("text", mode="lines")
    with pytest.raises(OptionsError, match=r"^keep must be one of 'article', 'first', 'longest'"):
        dedupe.clean("text", keep="last")


def test_a_missing_field_is_the_only_line_before_anything_runs(tmp_path: Path) -> None:
    path = corpus_file(tmp_path, [{"body": "some words"}] * 3)
    code, _, stderr = invoke("corpus", str(path), "-o", str(tmp_path / "out"), "--field", "text")
    assert code == 2
    assert stderr == (
        f"dedupe: error: {path}:1: no 'text' field (use --on-error skip to skip bad records)\n"
    )


class Counting(SerialExecutor):
    """Runs in this process and counts the stages it was given."""

    def __init__(self) -> None:
        self.maps = 0

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        self.maps += 1
        return super().map(fn, items)


def test_the_library_reports_a_missing_field_before_any_stage_runs() -> None:
    executor = Counting()
    with pytest.raises(InputError, match=r"^record 0: no 'text' field"):
        dedupe_corpus([{"body": "words"}] * 3, executor=executor)
    assert executor.maps == 0
