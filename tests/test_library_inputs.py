"""dedupe corpus on what a new user gives it first: .txt files named one by
one, an empty directory, an empty file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedupe.cli.main import main
from dedupe.corpus.pipeline import dedupe_corpus, write_corpus
from dedupe.errors import InputError
from dedupe.io.sources import RecordsSource, TextDirSource, open_source

ARTICLE = " ".join(f"word{n}" for n in range(120)) + "\n"
OTHER = " ".join(f"other{n}" for n in range(120)) + "\n"


def corpus(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["corpus", "-q", *args])
    return result.exit_code, result.stderr


def test_one_txt_file_is_one_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, stderr = corpus("a.txt", "-o", "out")
    assert (code, stderr) == (0, "")
    assert (tmp_path / "out" / "corpus" / "a.txt").read_text(encoding="utf-8") == ARTICLE
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["documents_in"], summary["documents_out"]) == (1, 1)


def test_txt_files_named_one_by_one_are_documents_with_their_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "copy.TXT").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_text(OTHER, encoding="utf-8")
    out = tmp_path / "out"
    names = [str(tmp_path / n) for n in ("a.txt", "copy.TXT", "sub/b.txt")]
    code, stderr = corpus(*names, "-o", str(out))
    assert (code, stderr) == (0, "")
    written = sorted(p.relative_to(out / "corpus").as_posix() for p in out.rglob("*.txt"))
    assert written == ["a.txt", "sub/b.txt"]
    members = [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]
    assert [(m["id"], m["kept"]) for m in members] == [("a.txt", "a.txt"), ("copy.TXT", "a.txt")]


def test_txt_files_in_one_directory_keep_their_names_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_text(OTHER, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    source = open_source(["b.txt", "a.txt"])
    assert isinstance(source, TextDirSource)
    with dedupe_corpus(source) as result:
        assert [(r["id"], r["text"]) for r in result] == [("b.txt", OTHER), ("a.txt", ARTICLE)]


def test_an_empty_directory_is_no_documents_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "notes.md").write_text(ARTICLE, encoding="utf-8")
    code, stderr = corpus(str(tmp_path / "pages"), "-o", str(tmp_path / "out"))
    assert code == 2
    assert stderr == f"dedupe: error: {tmp_path / 'pages'}: no documents (no .txt files in it)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pages"]


def test_an_empty_file_is_no_documents_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    code, stderr = corpus(str(tmp_path / "empty.jsonl"), "-o", str(tmp_path / "out"))
    assert (code, stderr) == (2, f"dedupe: error: {tmp_path / 'empty.jsonl'}: no documents\n")
    assert not (tmp_path / "out").exists()


def test_write_corpus_of_nothing_is_an_input_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^the records: no documents$"):
        write_corpus(RecordsSource([]), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
    # The iterator API gives an empty result instead: a batch may be empty.
    with dedupe_corpus([]) as result:
        assert list(result) == []


def test_a_directory_and_files_together_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    code, stderr = corpus(str(tmp_path / "pages"), str(tmp_path / "a.txt"), "-o", "out")
    assert (code, stderr) == (
        2,
        "dedupe: error: give one directory of .txt files, or .txt files, not several\n",
    )
    (tmp_path / "b.jsonl").write_text("{}\n", encoding="utf-8")
    code, stderr = corpus(str(tmp_path / "b.jsonl"), str(tmp_path / "a.txt"), "-o", "out")
    assert code == 2
    assert "inputs mix formats" in stderr
