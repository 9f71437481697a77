"""``dedupe clean`` end to end: real files in a temporary directory, the real core."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dedupe.cli.main import COMMANDS, main
from dedupe.io.files import PAUSE_ENV, TEMP_SUFFIX

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SEED = SAMPLES / "rudaw-article.txt"
EXPECTED = SAMPLES / "rudaw-article.expected.txt"
SEED_BLOCK = "block 1: lines 13-23 repeat lines 2-12 (11 paragraphs, exact)"
PATCH = Path("/usr/bin/patch")


def run(*args: object, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=stdin, catch_exceptions=False)


def seed_copy(directory: Path, name: str = "article.txt") -> Path:
    path = directory / name
    shutil.copyfile(SEED, path)
    return path


def assert_one_line_error(result: Result) -> None:
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dedupe: error: ")


def test_seed_is_cleaned_byte_for_byte() -> None:
    result = run("clean", SEED)
    assert result.exit_code == 0
    assert result.stdout_bytes == EXPECTED.read_bytes()
    assert SEED_BLOCK in result.stderr
    assert result.stderr.count(" repeats line ") == 11


@pytest.mark.parametrize("args", [["clean"], ["clean", "-"]])
def test_stdin_to_stdout(args: list[str]) -> None:
    result = run(*args, stdin=SEED.read_bytes())
    assert result.exit_code == 0
    assert result.stdout_bytes == EXPECTED.read_bytes()
    assert result.stderr.startswith("stdin\n")


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    result = run("clean", SEED, "-o", out)
    assert result.exit_code == 0
    assert result.stdout_bytes == b""
    assert out.read_bytes() == EXPECTED.read_bytes()


def test_output_dir_takes_several_files(tmp_path: Path) -> None:
    clean_one = tmp_path / "clean.txt"
    shutil.copyfile(EXPECTED, clean_one)
    out = tmp_path / "out" / "nested"
    result = run("clean", SEED, clean_one, "--output-dir", out)
    assert result.exit_code == 0
    assert result.stdout_bytes == b""
    assert (out / SEED.name).read_bytes() == EXPECTED.read_bytes()
    assert (out / "clean.txt").read_bytes() == EXPECTED.read_bytes()
    assert f"{clean_one}: nothing removed" in result.stderr


def test_output_dir_refuses_two_inputs_with_one_name(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    result = run("clean", seed_copy(a), seed_copy(b), "--output-dir", tmp_path / "out")
    assert_one_line_error(result)
    assert not (tmp_path / "out").exists()


def test_in_place_keeps_permissions_and_leaves_no_other_file(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    path.chmod(0o640)
    result = run("clean", "--in-place", path)
    assert result.exit_code == 0
    assert path.read_bytes() == EXPECTED.read_bytes()
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article.txt"]


def test_in_place_with_backup(tmp_path: Path) -> None:
    first, second = seed_copy(tmp_path, "one.txt"), seed_copy(tmp_path, "two.txt")
    result = run("clean", "--in-place", "--backup", ".orig", first, second)
    assert result.exit_code == 0
    for path in (first, second):
        assert path.read_bytes() == EXPECTED.read_bytes()
        assert path.with_name(path.name + ".orig").read_bytes() == SEED.read_bytes()


def test_in_place_leaves_an_unchanged_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "clean.txt"
    shutil.copyfile(EXPECTED, path)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    result = run("clean", "--in-place", "--backup", ".orig", path)
    assert result.exit_code == 0
    assert path.stat().st_mtime == 1_000_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.txt"]


def test_check_reports_and_writes_nothing(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    clean_one = tmp_path / "clean.txt"
    shutil.copyfile(EXPECTED, clean_one)

    found = run("clean", "--check", path, clean_one)
    assert found.exit_code == 1
    assert found.stdout_bytes == b""
    assert SEED_BLOCK in found.stderr
    assert path.read_bytes() == SEED.read_bytes()

    nothing = run("clean", "--check", clean_one)
    assert nothing.exit_code == 0
    assert nothing.stdout_bytes == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article.txt", "clean.txt"]


def test_quiet_prints_no_report() -> None:
    result = run("clean", "--quiet", SEED)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout_bytes == EXPECTED.read_bytes()


def test_empty_file_is_valid_and_prints_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = run("clean", path)
    assert result.exit_code == 0
    assert result.stdout_bytes == b""
    assert result.stderr == f"{path}: nothing removed (0 paragraphs)\n"


@pytest.mark.parametrize("final_newline", [True, False])
def test_bom_and_crlf_round_trip(tmp_path: Path, final_newline: bool) -> None:
    def crlf(text: bytes) -> bytes:
        body = b"\xef\xbb\xbf" + text.rstrip(b"\n").replace(b"\n", b"\r\n")
        return body + b"\r\n" if final_newline else body

    path = tmp_path / "crlf.txt"
    path.write_bytes(crlf(SEED.read_bytes()))
    result = run("clean", path)
    assert result.exit_code == 0
    assert SEED_BLOCK in result.stderr
    assert result.stdout_bytes == crlf(EXPECTED.read_bytes())

    assert run("clean", "--in-place", path).exit_code == 0
    assert path.read_bytes() == crlf(EXPECTED.read_bytes())


def test_errors_replace_decodes_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(SEED.read_bytes() + b"caf\xe9\n")
    result = run("clean", "--errors", "replace", path)
    assert result.exit_code == 0
    assert result.stdout_bytes == EXPECTED.read_bytes() + "caf\ufffd\n".encode()


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"text\0more text\n")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"caf\xe9 au lait\n")
    (tmp_path / "folder").mkdir()
    return {
        "missing": tmp_path / "missing.txt",
        "directory": tmp_path / "folder",
        "binary": binary,
        "invalid-utf8": latin1,
    }


@pytest.mark.parametrize("kind", ["missing", "directory", "binary", "invalid-utf8"])
@pytest.mark.parametrize("mode", [[], ["--in-place"], ["--check"]])
def test_bad_input_is_one_line_and_touches_nothing(
    tmp_path: Path, kind: str, mode: list[str]
) -> None:
    path = _bad_inputs(tmp_path)[kind]
    before = path.read_bytes() if path.is_file() else None
    result = run("clean", *mode, path)
    assert_one_line_error(result)
    assert str(path) in result.stderr
    assert result.stdout_bytes == b""
    if before is not None:
        assert path.read_bytes() == before
    assert not list(tmp_path.glob(f".*{TEMP_SUFFIX}"))


def test_input_over_the_size_limit(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    result = run("clean", "--max-bytes", "1000", "--in-place", path)
    assert_one_line_error(result)
    assert "1,000-byte limit" in result.stderr
    assert path.read_bytes() == SEED.read_bytes()


def test_a_bad_input_does_not_stop_the_others(tmp_path: Path) -> None:
    good, later = seed_copy(tmp_path, "good.txt"), seed_copy(tmp_path, "later.txt")
    (tmp_path / "binary.txt").write_bytes(b"a\0b")
    bad = [tmp_path / "missing.txt", tmp_path / "binary.txt"]
    result = run("clean", "-q", "--in-place", good, bad[0], later, bad[1])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"dedupe: error: {bad[0]}: no such file",
        f"dedupe: error: {bad[1]}: binary file (contains NUL bytes), not UTF-8 text",
    ]
    assert good.read_bytes() == EXPECTED.read_bytes()
    assert later.read_bytes() == EXPECTED.read_bytes()


def test_a_bad_input_with_output_dir(tmp_path: Path) -> None:
    a, c = seed_copy(tmp_path, "a.txt"), seed_copy(tmp_path, "c.txt")
    out = tmp_path / "out"
    result = run("clean", "-q", a, tmp_path / "missing.txt", c, "--output-dir", out)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "c.txt"]
    assert (out / "c.txt").read_bytes() == EXPECTED.read_bytes()


@pytest.mark.parametrize(
    "args",
    [
        ["--keep", "last"],
        ["--mode", "sentence"],
        ["--threshold", "abc"],
        ["--threshold", "1.5"],
        ["--shingle-size", "0"],
        ["--num-perm", "0"],
        ["--report", "pdf"],
        ["--errors", "ignore"],
        ["--no-such-flag"],
        ["--backup", ".orig"],
        ["--in-place", "--backup", ""],
        ["--in-place", "--errors", "replace"],
        ["--field", "body"],
        ["--check", "-o", "out.txt"],
        ["--in-place", "-o", "out.txt"],
        ["--quiet", "--report-file", "report.txt"],
        ["--in-place", "-"],
        ["-", "-"],
        ["SEED_AGAIN"],
    ],
)
def test_bad_usage_is_one_line_and_touches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = seed_copy(tmp_path)
    args = [str(path) if a == "SEED_AGAIN" else a for a in args]
    result = run("clean", path, *args)
    assert_one_line_error(result)
    assert result.stdout_bytes == b""
    assert path.read_bytes() == SEED.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article.txt"]


def test_unwritable_output_is_one_line(tmp_path: Path) -> None:
    result = run("clean", SEED, "-o", tmp_path / "no" / "such" / "dir" / "out.txt")
    assert_one_line_error(result)
    assert "cannot write" in result.stderr


JSONL_RECORDS = [
    '{"id": 1.10000000000000000001, "text": %s, "meta": {"text": 2, "tags": ["a\\u00e9"]}}',
    '{"text":%s,"id":2}',
]


def test_jsonl_cleans_the_field_and_keeps_everything_else(tmp_path: Path) -> None:
    seed, expected = (json.dumps(p.read_text(encoding="utf-8")) for p in (SEED, EXPECTED))
    lines = [
        JSONL_RECORDS[0] % seed,
        JSONL_RECORDS[1] % json.dumps("Nothing repeats here.\nAt all."),
        "",
        JSONL_RECORDS[1] % seed,
    ]
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run("clean", "--jsonl", path)
    assert result.exit_code == 0
    out = result.stdout_bytes.decode().split("\n")
    assert out[0] == JSONL_RECORDS[0] % json.dumps(
        EXPECTED.read_text(encoding="utf-8"), ensure_ascii=False
    )
    assert out[1:3] == lines[1:3]
    assert json.loads(out[3]) == {"text": json.loads(expected), "id": 2}
    assert list(json.loads(out[3])) == ["text", "id"]
    assert f"{path}:1\n{SEED_BLOCK}" in result.stderr
    assert f"{path}:2: nothing removed" in result.stderr


def test_jsonl_other_field_in_place(tmp_path: Path) -> None:
    record = {"url": "https://example.org/a", "body": SEED.read_text(encoding="utf-8"), "n": 1}
    path = tmp_path / "pages.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = run("clean", "--jsonl", "--field", "body", "--in-place", path)
    assert result.exit_code == 0
    cleaned = json.loads(path.read_text(encoding="utf-8"))
    assert cleaned == {**record, "body": EXPECTED.read_text(encoding="utf-8")}
    assert list(cleaned) == ["url", "body", "n"]


def test_jsonl_keeps_a_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "pages.jsonl"
    record = json.dumps({"text": SEED.read_text(encoding="utf-8")})
    path.write_bytes(f"\ufeff{record}\r\n{record}\r\n".encode())
    result = run("clean", "--jsonl", "--in-place", path)
    assert result.exit_code == 0
    cleaned = json.dumps(EXPECTED.read_text(encoding="utf-8"), ensure_ascii=False)
    expected = f'\ufeff{{"text": {cleaned}}}\r\n{{"text": {cleaned}}}\r\n'
    assert path.read_bytes() == expected.encode()


def test_jsonl_from_stdin_to_stdout() -> None:
    record = {"text": SEED.read_text(encoding="utf-8"), "lang": "en"}
    result = run("clean", "--jsonl", "-o", "-", "-", stdin=json.dumps(record).encode())
    assert result.exit_code == 0
    assert json.loads(result.stdout_bytes) == {**record, "text": EXPECTED.read_text("utf-8")}
    assert result.stderr.startswith(f"stdin:1\n{SEED_BLOCK}\n")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not a JSON object"),
        ('["text"]', "not a JSON object"),
        ('{"text": "a"', "not a JSON object"),
        ('{"text": "a"} trailing', "not a JSON object"),
        ('{"title": "a"}', "no 'text' field"),
        ('{"text": 3}', "field 'text' is a number, not a string"),
        ('{"text": null}', "field 'text' is null, not a string"),
    ],
)
def test_jsonl_bad_record_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "pages.jsonl"
    original = json.dumps({"text": SEED.read_text(encoding="utf-8")}) + "\n" + line + "\n"
    path.write_text(original, encoding="utf-8")
    result = run("clean", "--jsonl", "--in-place", "--quiet", path)
    assert_one_line_error(result)
    assert result.stderr.startswith(f"dedupe: error: {path}:2: {message}")
    assert path.read_text(encoding="utf-8") == original


def test_json_report(tmp_path: Path) -> None:
    clean_one = tmp_path / "clean.txt"
    shutil.copyfile(EXPECTED, clean_one)
    result = run("clean", "--check", "--report", "json", SEED, clean_one)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert list(first) == ["schema", "source", "options", "mode", "counts", "blocks", "removed"]
    assert first["schema"] == "dedupe.clean/1"
    assert first["source"] == str(SEED)
    assert first["counts"]["removed"] == 11
    assert first["counts"]["chars_out"] == len(EXPECTED.read_text(encoding="utf-8"))
    assert first["blocks"] == [
        {
            "number": 1,
            "lines": [13, 23],
            "twin_lines": [2, 12],
            "paragraphs": 11,
            "removed": list(range(12, 23)),
        }
    ]
    assert second["counts"]["removed"] == 0
    assert second["removed"] == []


def test_report_file_gets_the_report(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    result = run("clean", SEED, "--report-file", report)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert SEED_BLOCK in report.read_text(encoding="utf-8")


@pytest.mark.skipif(not PATCH.exists(), reason="GNU patch is not installed")
@pytest.mark.parametrize("ending", ["\n", "\r\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_diff_report_applies_with_patch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str, final_newline: bool
) -> None:
    text = SEED.read_text(encoding="utf-8").rstrip("\n").replace("\n", ending)
    if final_newline:
        text += ending
    (tmp_path / "my article.txt").write_bytes(text.encode())
    monkeypatch.chdir(tmp_path)
    result = run("clean", "my article.txt", "--report", "diff", "--report-file", "fix.patch")
    assert result.exit_code == 0
    applied = subprocess.run(
        [str(PATCH), "-p1", "--quiet", "--input", "fix.patch"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (tmp_path / "my article.txt").read_bytes() == result.stdout_bytes


def test_html_report_is_self_contained_and_escaped(tmp_path: Path) -> None:
    evil = "Breaking: <script>alert('x')</script> & <img src=http://tracker.example/p.gif> " * 3
    path = tmp_path / "evil<b>.txt"
    path.write_text(f"{evil}\nIntro line.\n{evil}\n", encoding="utf-8")
    report = tmp_path / "report.html"
    result = run("clean", path, SEED, "--check", "--report", "html", "--report-file", report)
    assert result.exit_code == 1
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<!DOCTYPE html>") == 1
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "evil<b>" not in page
    assert "&lt;script&gt;" in page
    assert 'href="http' not in page
    assert "src=" not in page.replace("src=http://tracker", "")
    assert "@import" not in page
    assert "url(" not in page
    assert page.count("<del>") == 12


def test_version_and_help_list_every_command() -> None:
    version = run("--version")
    assert version.exit_code == 0
    assert "dedupe" in version.stdout
    listing = run("--help")
    for name in COMMANDS:
        assert name in listing.stdout
        assert run(name, "--help").exit_code == 0


def _in_place_process(path: Path, pause: str | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, PAUSE_ENV: pause} if pause else dict(os.environ)
    return subprocess.Popen(
        [sys.executable, "-m", "dedupe", "clean", "--quiet", "--in-place", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_temp(directory: Path, process: subprocess.Popen[bytes]) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = list(directory.glob(f".*{TEMP_SUFFIX}"))
        if found:
            return found[0]
        assert process.poll() is None, "the process ended before writing its temporary file"
        time.sleep(0.01)
    raise AssertionError("no temporary file appeared")


def test_in_place_killed_before_the_rename_leaves_the_original(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    process = _in_place_process(path, pause="60")
    temp = _wait_for_temp(tmp_path, process)
    process.kill()
    process.communicate()
    assert path.read_bytes() == SEED.read_bytes()
    # What a SIGKILL leaves is only the hidden temporary file, never a second "article.txt".
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["article.txt", temp.name])
    assert temp.name.startswith(".article.txt.")


def test_in_place_interrupted_removes_its_temporary_file(tmp_path: Path) -> None:
    path = seed_copy(tmp_path)
    process = _in_place_process(path, pause="60")
    _wait_for_temp(tmp_path, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert stderr == b"dedupe: interrupted\n"
    assert path.read_bytes() == SEED.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article.txt"]


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.4])
def test_in_place_killed_at_any_moment_is_old_or_new(tmp_path: Path, delay: float) -> None:
    path = tmp_path / "big.txt"
    body = SEED.read_text(encoding="utf-8")
    path.write_text("".join(f"Section {i}.\n{body}" for i in range(60)), encoding="utf-8")
    original = path.read_bytes()
    process = _in_place_process(path, pause=None)
    time.sleep(delay)
    process.kill()
    process.communicate()
    assert path.read_bytes() in (original, _cleaned_by_library(original))
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(TEMP_SUFFIX)] == ["big.txt"]


def _cleaned_by_library(data: bytes) -> bytes:
    from dedupe.cleaning.pipeline import clean

    return clean(data.decode("utf-8")).text.encode("utf-8")


def test_clean_imports_neither_rich_nor_datasketch_off_a_terminal() -> None:
    process = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dedupe", "clean", str(SEED)],
        capture_output=True,
        check=True,
    )
    assert process.stdout == EXPECTED.read_bytes()
    imported = {line.rsplit("|", 1)[-1].strip() for line in process.stderr.decode().splitlines()}
    assert "dedupe.cleaning.pipeline" in imported
    assert not {name for name in imported if name.split(".")[0] in ("rich", "datasketch")}
