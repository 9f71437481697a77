"""`dedupe clean` never destroys a user's file: an output that is an input, an
existing backup, ownership under --in-place, empty HTML, text UTF-8 cannot hold."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dedupe.errors import OutputError
from tests.test_cli import EXPECTED, SEED, run, seed_copy

PAGE = "<html><body><article><p>One paragraph of the page.</p></article></body></html>"


def refused(args: list[object], *unchanged: Path, quiet: bool = True) -> str:
    """Run ``clean``, expect exit 2 with one line and every ``unchanged`` file as it was."""
    before = {p: p.read_bytes() for p in unchanged}
    result = run("clean", *(["-q"] if quiet else []), *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("dedupe: error: ")
    assert {p: p.read_bytes() for p in unchanged} == before
    return result.stderr


def test_output_onto_an_html_input(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    message = refused([page, "-o", page], page)
    assert "the output is the input" in message
    assert "--in-place" not in message


def test_output_onto_an_input_read_with_errors_replace(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(SEED.read_bytes() + b"caf\xe9\n")
    refused(["--errors", "replace", bad, "-o", bad], bad)
    refused(["--errors", "replace", bad, "--output-dir", tmp_path], bad)


def test_output_onto_a_text_input_points_to_in_place(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    assert "--in-place rewrites it safely" in refused([path, "-o", path], path)


def test_output_onto_an_input_by_another_name(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    (tmp_path / "hard.txt").hardlink_to(path)
    refused([path, "-o", tmp_path / "hard.txt"], path)
    # A symlink of the same name in the output directory.
    out = tmp_path / "out"
    out.mkdir()
    (out / "article.txt").symlink_to(path)
    refused([path, "--output-dir", out], path)


def test_in_place_with_a_file_named_twice(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    refused(["--in-place", path, tmp_path / "." / "article.txt"], path)


def test_report_file_onto_an_input(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    args = ["--report", "json", path, "--report-file", path, "-o", tmp_path / "o.txt"]
    assert "the report file is the input" in refused(args, path, quiet=False)
    assert not (tmp_path / "o.txt").exists()


def test_nothing_is_written_when_one_output_is_refused(tmp_path: Path) -> None:
    first, second = seed_copy(tmp_path, "first.txt"), seed_copy(tmp_path, "second.txt")
    out = tmp_path / "out"
    out.mkdir()
    (out / "second.txt").symlink_to(second)
    refused([first, second, "--output-dir", out], first, second)
    assert not (out / "first.txt").exists()


def test_backup_is_the_original_file_itself(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    inode = path.stat().st_ino
    result = run("clean", "-q", "--in-place", "--backup", ".orig", path)
    assert result.exit_code == 0
    backup = tmp_path / "article.txt.orig"
    # A hard link made in one step: never a half-copied backup.
    assert backup.stat().st_ino == inode
    assert backup.read_bytes() == SEED.read_bytes()
    assert path.read_bytes() == EXPECTED.read_bytes()


def test_existing_backup_is_refused(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    backup = tmp_path / "article.txt.orig"
    backup.write_text("an older backup\n", encoding="utf-8")
    message = refused(["--in-place", "--backup", ".orig", path], path, backup)
    assert "--overwrite-backup" in message
    result = run("clean", "-q", "--in-place", "--backup", ".orig", "--overwrite-backup", path)
    assert result.exit_code == 0
    assert backup.read_bytes() == SEED.read_bytes()
    assert path.read_bytes() == EXPECTED.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article.txt", "article.txt.orig"]


def test_overwrite_backup_needs_backup(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    refused(["--in-place", "--overwrite-backup", path], path)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing owners needs root"
)
def test_in_place_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    nobody = 65534  # nobody:nogroup on Debian, nobody:nobody elsewhere; ids need no names
    path = seed_copy(tmp_path)
    os.chown(path, nobody, nobody)
    path.chmod(0o640)
    result = run("clean", "-q", "--in-place", "--backup", ".orig", path)
    assert result.exit_code == 0
    assert path.read_bytes() == EXPECTED.read_bytes()
    for kept in (path, tmp_path / "article.txt.orig"):
        st = kept.stat()
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (nobody, nobody, 0o640)


def test_html_with_no_text_is_an_error_and_the_rest_is_cleaned(tmp_path: Path) -> None:
    pytest.importorskip("trafilatura")
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><img src='a.png'></body></html>", encoding="utf-8")
    text = seed_copy(tmp_path)
    out = tmp_path / "out"
    result = run("clean", "-q", empty, text, "--output-dir", out)
    assert result.exit_code == 2
    assert result.stderr == f"dedupe: error: {empty}: no text found in the HTML; nothing written\n"
    assert sorted(p.name for p in out.iterdir()) == ["article.txt"]


def test_text_with_a_lone_surrogate_is_not_written() -> None:
    from dedupe.cli.clean import _encode_text

    assert _encode_text("caf\u00e9\n", "a.txt") == "caf\u00e9\n".encode()
    with pytest.raises(OutputError, match=r"a\.txt: .*lone surrogate \(U\+D800\)"):
        _encode_text("a \ud800 b\n", "a.txt")
