"""Where ``dedupe clean`` sends its reports: the README's report commands run
as written (pipes included), ``--report-file -``, and what stays off a terminal."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dedupe.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "samples" / "rudaw-article.txt"
EXPECTED = ROOT / "samples" / "rudaw-article.expected.txt"
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
needs_patch = pytest.mark.skipif(shutil.which("patch") is None, reason="patch is not installed")


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def readme_line(fragment: str) -> str:
    """The README's shell line holding ``fragment``, its comment cut off."""
    (line,) = [ln for ln in README.splitlines() if ln.startswith("dedupe clean") and fragment in ln]
    return line.split("  #")[0].strip()


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """``command`` run by bash in ``cwd`` with this interpreter's ``dedupe`` first on PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    if not (BIN / "dedupe").exists():
        pytest.skip(f"no dedupe command next to {sys.executable}")
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
    )


@needs_patch
def test_readme_diff_pipes_into_patch(tmp_path: Path) -> None:
    command = readme_line("| patch -p1")
    assert command == "dedupe clean --report diff page.txt | patch -p1"
    shutil.copyfile(SEED, tmp_path / "page.txt")
    done = shell(command, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "page.txt").read_bytes() == EXPECTED.read_bytes()


def test_diff_replaces_the_cleaned_text_on_stdout() -> None:
    result = run("clean", "--report", "diff", SEED)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"--- a/{SEED}\n+++ b/{SEED}\n@@ ")
    assert result.stderr == ""
    # The cleaned text is not printed as well: every line is part of the diff.
    assert all(line[:1] in " -+@\\" for line in result.stdout.splitlines()[2:])


def test_diff_on_stdout_with_the_text_in_a_file(tmp_path: Path) -> None:
    out = tmp_path / "clean.txt"
    result = run("clean", "--report", "diff", SEED, "-o", out)
    assert result.exit_code == 0
    assert out.read_bytes() == EXPECTED.read_bytes()
    assert result.stdout.startswith("--- a/")


@needs_patch
def test_diff_of_several_files_pipes_into_patch(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt"):
        shutil.copyfile(SEED, tmp_path / name)
    done = shell("dedupe clean --report diff a.txt b.txt | patch -p1", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("a.txt", "b.txt"):
        assert (tmp_path / name).read_bytes() == EXPECTED.read_bytes()


def test_diff_and_text_both_on_stdout_is_refused() -> None:
    result = run("clean", "--report", "diff", SEED, "-o", "-")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert re.search(r"both go to stdout: give --report-file", result.stderr)


@pytest.mark.parametrize("kind", ["text", "json", "diff"])
def test_report_file_dash_is_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("clean", "--report", kind, "--report-file", "-", SEED)
    assert result.exit_code == 0
    assert not (tmp_path / "-").exists()
    assert result.stderr == ""
    expected = {"text": "block 1: lines 13-23", "json": '"schema": "dedupe.clean/1"', "diff": "@@ "}
    assert expected[kind] in result.stdout
    # The report replaces the cleaned text on stdout (its first line is in no report).
    assert EXPECTED.read_text(encoding="utf-8").splitlines()[0] not in result.stdout


def test_report_file_dash_with_the_text_in_a_file(tmp_path: Path) -> None:
    out = tmp_path / "clean.txt"
    result = run("clean", "--report", "json", "--report-file", "-", SEED, "-o", out)
    assert result.exit_code == 0
    assert out.read_bytes() == EXPECTED.read_bytes()
    assert result.stdout.startswith('{"schema": "dedupe.clean/1"')


def test_report_file_dot_slash_dash_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("clean", "--report-file", "./-", SEED)
    assert result.exit_code == 0
    assert result.stdout_bytes == EXPECTED.read_bytes()
    assert "block 1: lines 13-23" in (tmp_path / "-").read_text(encoding="utf-8")


def test_report_file_dash_and_text_on_stdout_is_refused() -> None:
    result = run("clean", "--report-file", "-", SEED, "-o", "-")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_html_without_report_file_goes_to_stdout_when_redirected() -> None:
    result = run("clean", "--report", "html", SEED)
    assert result.exit_code == 0
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert result.stdout.count("<!DOCTYPE html>") == 1
    assert result.stderr == ""
    # The page alone: the cleaned text is not written after it.
    assert result.stdout.endswith("</html>\n")


def on_a_terminal(*args: str) -> tuple[int, bytes, bytes]:
    """Run ``dedupe`` with its stdout on a new pseudo-terminal: the exit
    status, what the terminal got, and stderr."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "dedupe", *args],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.PIPE,
        )
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other end is closed
                break
            if not chunk:
                break
            shown += chunk
        _, err = process.communicate(timeout=120)
    finally:
        os.close(master)
    return process.returncode, shown, err


def test_html_is_not_dumped_onto_a_terminal() -> None:
    status, shown, err = on_a_terminal("clean", "--report", "html", str(SEED))
    assert status == 2
    assert shown == b""
    lines = err.decode().splitlines()
    assert len(lines) == 1, err
    assert "--report-file" in lines[0]


def test_cleaned_text_still_goes_to_a_terminal() -> None:
    # The control case: the same terminal gets the cleaned text without --report html.
    status, shown, _ = on_a_terminal("clean", "--quiet", str(SEED))
    assert status == 0
    assert shown.replace(b"\r\n", b"\n") == EXPECTED.read_bytes()
