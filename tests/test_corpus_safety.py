"""dedupe corpus loses nothing, whatever comes in: output names, outputs onto
inputs, corrupt archives, odd text, odd files, killed runs (issue 14)."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dedupe.cli.main import main


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
        for line in path.read_text(encoding="utf-8-sig").splitlines()
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
    from dedupe.io.sources import _output_names

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


# ---- 3. truncated and corrupt archives ----


def many_records(count: int = 3000) -> bytes:
    lines = (
        json.dumps(
            {"id": i, "text": f"document {i} " + " ".join(f"w{i * 7 + k}" for k in range(40))}
        )
        for i in range(count)
    )
    return "".join(line + "\n" for line in lines).encode()


def zstd(data: bytes, *, checksum: bool = False) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    return bytes(zstandard.ZstdCompressor(write_checksum=checksum).compress(data))


def flipped(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 0x5A
    return bytes(out)


@pytest.mark.parametrize("on_error", ["stop", "skip"])
def test_half_a_zstd_file_is_an_error_not_a_short_corpus(tmp_path: Path, on_error: str) -> None:
    whole = zstd(many_records())
    path = tmp_path / "in.jsonl.zst"
    path.write_bytes(whole[: len(whole) // 2])
    line = one_error_line(run(str(path), "-o", str(tmp_path / "out"), "--on-error", on_error))
    assert "in.jsonl.zst" in line
    assert "truncated" in line
    assert not (tmp_path / "out").exists()


def test_a_zstd_file_of_several_frames_is_read_to_its_end(tmp_path: Path) -> None:
    data = many_records(100)
    half = data.index(b"\n", len(data) // 2) + 1
    path = tmp_path / "in.jsonl.zst"
    # As `cat a.zst b.zst` or pzstd make it.
    path.write_bytes(zstd(data[:half]) + zstd(data[half:]))
    out = tmp_path / "out"
    result = run(str(path), "-o", str(out), "--no-boilerplate", "--no-clean")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["documents_in"] == 100


def test_a_zst_file_that_is_not_zstd_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl.zst"
    path.write_bytes(many_records(10))
    line = one_error_line(run(str(path), "-o", str(tmp_path / "out")))
    assert "not zstd data" in line


def test_a_flipped_byte_in_a_zstd_file_with_a_checksum_is_one_error_line(tmp_path: Path) -> None:
    whole = zstd(many_records(), checksum=True)
    path = tmp_path / "in.jsonl.zst"
    path.write_bytes(flipped(whole, len(whole) // 2))
    one_error_line(run(str(path), "-o", str(tmp_path / "out")))
    # Skipping the garbled lines still meets the checksum at the end.
    line = one_error_line(run(str(path), "-o", str(tmp_path / "out"), "--on-error", "skip"))
    assert "in.jsonl.zst" in line
    assert "corrupt" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("at", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_a_flipped_byte_in_a_zstd_file_never_gives_a_traceback(tmp_path: Path, at: float) -> None:
    # Without a checksum a flip can go unseen; it must never crash.
    whole = zstd(many_records(300))
    path = tmp_path / "in.jsonl.zst"
    path.write_bytes(flipped(whole, int(len(whole) * at)))
    result = run(str(path), "-o", str(tmp_path / "out"), "--on-error", "skip")
    if result.exit_code != 0:
        one_error_line(result)


def test_a_truncated_gzip_file_is_one_error_line(tmp_path: Path) -> None:
    whole = gzip.compress(many_records(), mtime=0)
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    for on_error in ("stop", "skip"):
        line = one_error_line(run(str(path), "-o", str(tmp_path / "out"), "--on-error", on_error))
        assert "truncated" in line


@pytest.mark.parametrize("at", [10, 11, 100, 1000, 0.5, -12])
def test_a_bad_gzip_block_is_one_error_line(tmp_path: Path, at: float) -> None:
    # Bytes 10 on: the first deflate block header, its code lengths, data;
    # -12: the end of the last block, before the CRC.
    whole = gzip.compress(many_records(), mtime=0)
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(flipped(whole, int(len(whole) * at) if isinstance(at, float) else at))
    # Deflate has no check of its own but the gzip CRC at the end: every
    # flip is found, at the damage or at the end.
    line = one_error_line(run(str(path), "-o", str(tmp_path / "out"), "--on-error", "skip"))
    assert "in.jsonl.gz" in line
    assert not (tmp_path / "out").exists()


def parquet_file(tmp_path: Path, *, checksum: bool) -> tuple[Path, bytes]:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [json.loads(line) for line in many_records(2000).splitlines()]
    path = tmp_path / "in.parquet"
    pq.write_table(
        pa.Table.from_pylist(rows), path, compression="snappy", write_page_checksum=checksum
    )
    return path, path.read_bytes()


def test_a_flipped_byte_in_a_parquet_page_is_one_error_line(tmp_path: Path) -> None:
    path, whole = parquet_file(tmp_path, checksum=True)
    # The first column chunk's pages start right after the leading magic.
    path.write_bytes(flipped(whole, len(whole) // 3))
    line = one_error_line(run(str(path), "-o", str(tmp_path / "out"), "--id-field", "id"))
    assert "in.parquet" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("at", [0.1, 0.3, 0.5, 0.7])
def test_a_flipped_byte_in_a_parquet_file_never_gives_a_traceback(
    tmp_path: Path, at: float
) -> None:
    path, whole = parquet_file(tmp_path, checksum=False)
    path.write_bytes(flipped(whole, int(len(whole) * at)))
    result = run(str(path), "-o", str(tmp_path / "out"), "--on-error", "skip")
    if result.exit_code != 0:
        one_error_line(result)


# ---- 4. lone surrogates ----

WORDS = " ".join(f"word{k}" for k in range(120))
REPEAT = (
    "this paragraph of the scraped page is repeated twice by a broken template on every article"
)


def test_lone_surrogates_are_compared_and_written_back_unchanged(tmp_path: Path) -> None:
    lines = [
        # Near-duplicates differing by their lone surrogate; an id with one.
        '{"id": "s1", "text": "' + WORDS + ' \\ud800 end"}\n',
        '{"id": "s2 \\udc80", "text": "' + WORDS + ' \\udfff end"}\n',
        # Repeats cleaned out of a document whose kept paragraph has one.
        '{"id": "r", "text": "kept \\ud83d paragraph of text here\\n\\n'
        + REPEAT
        + "\\n\\n"
        + REPEAT
        + '\\n"}\n',
        '{"id": "plain", "text": "nothing odd here at all"}\n',
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(lines), encoding="ascii")
    out = tmp_path / "out"
    result = run(str(path), "-o", str(out), "--id-field", "id")
    assert result.exit_code == 0, result.output
    written = (out / "corpus" / "in.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    assert written[0] == lines[0]
    assert written[2] == lines[3]
    cleaned = json.loads(written[1])
    assert cleaned["text"] == f"kept \ud83d paragraph of text here\n\n{REPEAT}\n"
    assert "\\ud83d" in written[1]
    members = [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]
    assert [(m["id"], m["kept"]) for m in members] == [("s1", "s1"), ("s2 \udc80", "s1")]


def test_records_held_in_memory_with_lone_surrogates_are_written(tmp_path: Path) -> None:
    from dedupe.corpus.pipeline import CorpusOptions, write_corpus
    from dedupe.io.sources import RecordsSource

    records = [{"text": "a \ud800 b", "n": 1}, {"text": "plain", "n": 2}]
    summary = write_corpus(
        RecordsSource(records), tmp_path / "out", options=CorpusOptions(workers=1)
    )
    assert summary.documents_out == 2
    written = (tmp_path / "out" / "corpus" / "records.jsonl").read_text(encoding="utf-8")
    assert [json.loads(line) for line in written.splitlines()] == records


# ---- 5. other bad input ----


def test_a_record_nested_too_deeply_is_a_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "x", "m": ' + "[" * 100_000 + "}\n" + '{"text": "fine"}\n')
    line = one_error_line(run(str(path), "-o", str(tmp_path / "out")))
    assert "in.jsonl:1: invalid JSON: nested too deeply" in line
    result = run(str(path), "-o", str(tmp_path / "out"), "--on-error", "skip")
    assert result.exit_code == 0, result.output
    assert texts_out(tmp_path / "out") == ["fine"]
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["bad_records"] == 1


def test_keep_by_values_past_the_float_range_rank_as_infinite(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    text = " ".join(f"w{k}" for k in range(50))
    path.write_text(
        f'{{"id": "small", "s": 5, "text": "{text}"}}\n'
        f'{{"id": "huge", "s": 1{"0" * 400}, "text": "{text}"}}\n'
        f'{{"id": "tiny", "s": -1{"0" * 400}, "text": "{text}"}}\n'
    )
    out = tmp_path / "out"
    result = run(str(path), "-o", str(out), "--keep-by", "s", "--id-field", "id")
    assert result.exit_code == 0, result.output
    kept = {json.loads(line)["kept"] for line in (out / "clusters.jsonl").read_text().splitlines()}
    assert kept == {"huge"}
    assert (out / "corpus" / "in.jsonl").read_text().startswith('{"id": "huge", "s": 1000')


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_json_lines_are_refused_whole(tmp_path: Path, encoding: str) -> None:
    text = "para one\n\nthe same long paragraph with a good many words in it, fifteen or more\n"
    lines = "".join(json.dumps({"text": text + text}) + "\n" for _ in range(3))
    path = tmp_path / "in.jsonl"
    path.write_bytes(lines.encode(encoding))
    for on_error in ("stop", "skip"):
        line = one_error_line(run(str(path), "-o", str(tmp_path / "out"), "--on-error", on_error))
        assert "in.jsonl: UTF-16 or UTF-32 text" in line
        assert not (tmp_path / "out").exists()


def test_a_utf16_line_inside_a_utf8_file_is_a_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "fine"}\n' + '{"text": "x"}'.encode("utf-16-le") + b"\n")
    line = one_error_line(run(str(path), "-o", str(tmp_path / "out")))
    assert "in.jsonl:2: NUL bytes" in line


def test_a_utf8_byte_order_mark_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "first"}\n{"text": "second"}\n')
    result = run(str(path), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert texts_out(tmp_path / "out") == ["first", "second"]


def test_a_fifo_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    # Nothing writes to the FIFO: reading it would hang this test.
    line = one_error_line(run(str(fifo), "-o", str(tmp_path / "out")))
    assert "not a regular file (a pipe" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_a_process_substitution_is_refused_by_name(tmp_path: Path) -> None:
    good = good_jsonl(tmp_path / "good.jsonl")
    # bash's <(cat good.jsonl): a pipe named /dev/fd/N.
    read, write = os.pipe()
    os.write(write, good.read_bytes())
    os.close(write)  # a second read finds the pipe empty rather than waiting
    try:
        line = one_error_line(run(f"/dev/fd/{read}", "-o", str(tmp_path / "out")))
    finally:
        os.close(read)
    assert f"/dev/fd/{read}: not a regular file" in line


def test_one_file_given_twice_is_refused(tmp_path: Path) -> None:
    good = good_jsonl(tmp_path / "good.jsonl")
    (tmp_path / "again.jsonl").symlink_to(good)
    for second in (str(good), str(tmp_path / "again.jsonl")):
        line = one_error_line(run(str(good), second, "-o", str(tmp_path / "out")))
        assert "given twice" in line


@pytest.mark.parametrize("on_error", ["stop", "skip"])
def test_duplicate_ids_are_refused_naming_both_places(tmp_path: Path, on_error: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": "a", "text": "one two three"}\n'
        '{"id": "b", "text": "four five six"}\n'
        '{"id": "a", "text": "seven eight nine"}\n'
    )
    line = one_error_line(
        run(str(path), "-o", str(tmp_path / "out"), "--id-field", "id", "--on-error", on_error)
    )
    assert "in.jsonl:3: id 'a' already used at" in line
    assert "in.jsonl:1" in line
    assert not (tmp_path / "out").exists()


def test_many_distinct_ids_pass(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": f"t{i}"}) + "\n" for i in range(5000)))
    result = run(str(path), "-o", str(tmp_path / "out"), "--id-field", "id")
    assert result.exit_code == 0, result.output


def test_a_text_directory_does_not_follow_links_out_of_it(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0:private\n")
    td = tmp_path / "td"
    (td / "sub").mkdir(parents=True)
    (td / "a.txt").write_text("an article\n")
    (td / "sub" / "b.txt").write_text("another article\n")
    (td / "inside.txt").symlink_to(td / "a.txt")
    (td / "passwd.txt").symlink_to(outside)
    (td / "linked").symlink_to(tmp_path)  # a linked directory is not entered
    line = one_error_line(run(str(td), "-o", str(tmp_path / "out")))
    assert "passwd.txt: a symbolic link out of the directory, not followed" in line
    out = tmp_path / "out"
    result = run(str(td), "-o", str(out), "--on-error", "skip", "--no-near-dups")
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(out / "corpus").as_posix() for p in out.rglob("*.txt"))
    assert written == ["a.txt", "inside.txt", "sub/b.txt"]
    assert "private" not in "".join(p.read_text() for p in out.rglob("*.txt"))
    assert json.loads((out / "summary.json").read_text())["bad_records"] == 1


# ---- 6. killed and interrupted runs ----

DEDUPE = [sys.executable, "-m", "dedupe"]


def children(pid: int) -> set[int]:
    """Live (not zombie) child processes of ``pid``, from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def alive(pids: set[int]) -> set[int]:
    still = set()
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if text[text.rfind(")") + 2] != "Z":
            still.add(pid)
    return still


def wait_for(condition: Callable[[], object], what: str, limit: float = 120.0) -> None:
    """Poll until ``condition()`` holds; the limit only keeps a broken run
    from hanging the suite."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def long_corpus(tmp_path: Path) -> Path:
    """A corpus that takes two workers a few seconds."""
    rng = random.Random(3)
    vocab = [f"w{i}" for i in range(5000)]
    path = tmp_path / "big.jsonl"
    with path.open("w") as file:
        for _ in range(6000):
            file.write(json.dumps({"text": " ".join(rng.choices(vocab, k=300))}) + "\n")
    return path


def start_run(tmp_path: Path, source: Path, *extra: str) -> subprocess.Popen[bytes]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    command = [*DEDUPE, "corpus", "-q", "--workers", "2", "--tmp-dir", "tmp", *extra, str(source)]
    return subprocess.Popen(
        [*command, "-o", "out"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell job is
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )


def running_with_workers(tmp_path: Path, run: subprocess.Popen[bytes]) -> set[int]:
    """Wait until ``run`` has made its partial output and started its two
    workers; their process ids."""
    wait_for(
        lambda: (
            run.poll() is not None
            or (list(tmp_path.glob(".out.*.partial")) and len(children(run.pid)) >= 2)
        ),
        "the workers",
    )
    assert run.poll() is None, run.communicate()[1].decode()
    return children(run.pid)


@pytest.mark.parametrize(
    "engine",
    [
        pytest.param((), id="processes"),
        pytest.param(("--dask", "local"), id="dask", marks=pytest.mark.slow),
    ],
)
def test_ctrl_c_exits_130_with_one_line_and_leaves_nothing(
    tmp_path: Path, long_corpus: Path, engine: tuple[str, ...]
) -> None:
    if engine:
        pytest.importorskip("distributed")
    run = start_run(tmp_path, long_corpus, *engine)
    try:
        workers = running_with_workers(tmp_path, run)
        # Ctrl-C reaches every process of the job: workers too.
        os.killpg(run.pid, signal.SIGINT)
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 130, err.decode()
    assert err.decode() == "dedupe: error: interrupted; no output written\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl", "tmp"]
    assert list((tmp_path / "tmp").iterdir()) == []
    wait_for(lambda: not alive(workers), "the workers to exit")


def test_after_kill_9_workers_exit_and_the_next_run_tidies_up(
    tmp_path: Path, long_corpus: Path
) -> None:
    run = start_run(tmp_path, long_corpus)
    try:
        workers = running_with_workers(tmp_path, run)
        run.kill()
        run.wait()
        # Orphaned workers see their parent go and exit.
        wait_for(lambda: not alive(workers), "the orphaned workers to exit")
        run.communicate(timeout=120)  # its stderr: the workers held it too
    finally:
        for pid in alive(children(run.pid)):
            os.kill(pid, signal.SIGKILL)
    partial = list(tmp_path.glob(".out.*.partial"))
    spill = list((tmp_path / "tmp").glob("dedupe-corpus-*"))
    assert len(partial) == 1
    assert len(spill) == 1
    small = good_jsonl(tmp_path / "small.jsonl")
    again = subprocess.run(
        [*DEDUPE, "corpus", "-q", "--workers", "1", "--tmp-dir", "tmp", str(small), "-o", "out"],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        check=False,
    )
    assert again.returncode == 0, again.stderr.decode()
    assert not partial[0].exists()
    assert not spill[0].exists()
    assert texts_out(tmp_path / "out") == ["alpha beta gamma", "delta epsilon"]


def test_only_leftovers_of_processes_provably_gone_are_removed(tmp_path: Path) -> None:
    from dedupe.corpus.workdirs import owner

    host, pid, start = owner().split("-")
    live = tmp_path / f".out.{owner()}.0123abcd.partial"
    reused = tmp_path / f".out.{host}-{pid}-{int(start) + 1}.0123abcd.partial"
    elsewhere = tmp_path / f".out.00000000-{pid}-{int(start) + 1}.0123abcd.partial"
    unnamed = tmp_path / ".out.0123abcd.partial"  # made before owners were named
    other = tmp_path / f".other.{host}-{pid}-{int(start) + 1}.0123abcd.partial"
    for path in (live, reused, elsewhere, unnamed, other):
        path.mkdir()
        (path / "summary.json").write_text("{}")
    good = good_jsonl(tmp_path / "in" / "good.jsonl")
    result = run(str(good), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert not reused.exists()
    assert live.exists()
    assert elsewhere.exists()
    assert unnamed.exists()
    assert other.exists()
