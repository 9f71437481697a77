"""``dedupe index add/check/stats`` on real files in a temporary directory."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dedupe.cli.main import COMMANDS, main
from tests.test_index import RedisServer

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
LINES = (SAMPLES / "rudaw-article.txt").read_text(encoding="utf-8").split("\n")


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "article": tmp_path / "article.txt",
        "again": tmp_path / "again.txt",
        "other": tmp_path / "other.txt",
        "page": tmp_path / "page.html",
    }
    paths["article"].write_text("\n".join(LINES[:12]), encoding="utf-8")
    paths["again"].write_text("\n".join(LINES[:11]), encoding="utf-8")
    paths["other"].write_text(
        "\n".join(
            f"An unrelated paragraph number {i} about gardening and tomatoes, "
            f"watering in the evening and compost {i}."
            for i in range(6)
        ),
        encoding="utf-8",
    )
    body = "".join(f"<p>{line}</p>" for line in LINES[:12])
    paths["page"].write_text(
        f"<html><head><title>t</title></head><body><article>{body}</article></body></html>",
        encoding="utf-8",
    )
    return paths


def test_registered() -> None:
    assert COMMANDS["index"] == "dedupe.cli.index:index"
    assert "index" in run("--help").output


def test_add_check_stats(tmp_path: Path, files: dict[str, Path]) -> None:
    index = tmp_path / "seen.db"
    added = run("index", "add", index, files["article"], files["other"])
    assert added.exit_code == 0
    assert added.output.splitlines() == [
        f"{files['article']}: new, added",
        f"{files['other']}: new, added",
    ]

    itself = run("index", "check", index, files["other"])
    assert itself.exit_code == 1
    assert (
        itself.output == f"{files['other']}: near-duplicate of {files['other']} (Jaccard 1.000)\n"
    )

    new_file = tmp_path / "new.txt"
    new_file.write_text("Something never seen before, long enough to be shingled well.\n")
    fresh = run("index", "check", index, new_file)
    assert (fresh.exit_code, fresh.output) == (0, f"{new_file}: new\n")

    dup = run("index", "check", index, files["again"], new_file)
    assert dup.exit_code == 1
    first = dup.output.splitlines()[0]
    assert first.startswith(f"{files['again']}: near-duplicate of {files['article']} (Jaccard 0.")

    skipped = run("index", "add", index, files["again"])
    assert skipped.output.endswith("not added\n")
    stats = run("index", "stats", index)
    assert stats.exit_code == 0
    assert "documents:       2" in stats.output
    assert "(sqlite)" in stats.output


def test_html_files_are_extracted(tmp_path: Path, files: dict[str, Path]) -> None:
    pytest.importorskip("trafilatura")
    index = tmp_path / "seen.db"
    run("index", "add", index, files["article"])
    result = run("index", "check", index, files["page"])
    assert result.exit_code == 1
    assert f"near-duplicate of {files['article']}" in result.output


def test_errors_are_one_line_exit_2(tmp_path: Path, files: dict[str, Path]) -> None:
    missing = run("index", "check", tmp_path / "missing.db", files["article"])
    assert missing.exit_code == 2
    assert missing.output == f"dedupe: error: no index at {tmp_path / 'missing.db'}\n"

    run("index", "add", tmp_path / "seen.db", files["article"])
    other = run("index", "add", "--threshold", "0.9", tmp_path / "seen.db", files["other"])
    assert other.exit_code == 2
    assert "other parameters: threshold=0.8 (asked 0.9)" in other.output
    assert len(other.output.splitlines()) == 1

    foreign = tmp_path / "notes.db"
    foreign.write_text("not a database at all\n" * 10)
    result = run("index", "stats", foreign)
    assert result.exit_code == 2
    assert "not a dedupe index" in result.output
    assert "Traceback" not in result.output

    unreadable = run("index", "add", tmp_path / "seen.db", tmp_path / "nope.txt")
    assert unreadable.exit_code == 2
    assert unreadable.output.startswith("dedupe: error: ")


def test_clean_with_learned_boilerplate(tmp_path: Path) -> None:
    index = tmp_path / "site.db"
    crawled = []
    for i in range(3):
        path = tmp_path / f"crawled{i}.txt"
        rng = random.Random(i)
        words = "the vote on roads schools water and power was delayed again by the council"
        body = [" ".join(rng.choices(words.split(), k=40)) for _ in range(4)]
        path.write_text("\n".join(body + LINES[23:29]), encoding="utf-8")
        crawled.append(path)
    assert run("index", "add", "--site", "www.rudaw.net", index, *crawled).exit_code == 0
    seed = tmp_path / "seed.txt"
    seed.write_text("\n".join(LINES), encoding="utf-8")

    result = run("clean", "--index", index, "--site", "www.rudaw.net", seed)
    assert result.exit_code == 0
    assert result.stdout == "\n".join(LINES[:12])
    assert "  line 24  on 100% of the site's documents  Comments\n" in result.stderr
    assert result.stderr.count("of the site's documents") == 6

    other_site = run("clean", "--index", index, "--site", "example.org", seed)
    assert other_site.stdout == "\n".join(LINES[:12] + LINES[23:29])

    # Boilerplate alone is something to remove: --check says so, and every
    # report lists each cut paragraph.
    footer_only = tmp_path / "footer.txt"
    footer_only.write_text("\n".join(LINES[:12] + LINES[23:29]), encoding="utf-8")
    check = run("clean", "--check", "--index", index, "--site", "www.rudaw.net", footer_only)
    assert check.exit_code == 1
    assert "site boilerplate:" in check.stderr
    as_json = run(
        "clean", "--report", "json", "--index", index, "--site", "www.rudaw.net", footer_only
    )
    report = json.loads(as_json.stderr.splitlines()[-1])
    cut = [r for r in report["removed"] if r["method"] == "boilerplate"]
    assert [r["line_start"] for r in cut] == list(range(13, 19))
    assert all(r["twins"] == [] and r["block"] == 0 and r["similarity"] == 1.0 for r in cut)
    assert report["counts"]["removed"] == 6

    alone = run("clean", "--index", index, seed)
    assert alone.exit_code == 2
    assert "--index and --site go together" in alone.output
    missing = run("clean", "--index", tmp_path / "none.db", "--site", "x", seed)
    assert (missing.exit_code, missing.stderr) == (
        2,
        f"dedupe: error: no index at {tmp_path / 'none.db'}\n",
    )


def test_clean_html(tmp_path: Path, files: dict[str, Path]) -> None:
    pytest.importorskip("trafilatura")
    page = tmp_path / "twice.htm"
    body = "".join(f"<p>{line}</p>" for line in LINES[:23])  # the body twice
    page.write_text(f"<html><body><article>{body}</article></body></html>", encoding="utf-8")
    result = run("clean", page)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == LINES[:12]
    as_html = tmp_path / "page.txt"
    as_html.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    assert run("clean", "--html", as_html).stdout.splitlines() == LINES[:12]
    assert run("clean", as_html).stdout.startswith("<html>")
    refused = run("clean", "--in-place", page)
    assert refused.exit_code == 2
    assert "--in-place" in refused.output
    assert page.read_text(encoding="utf-8").startswith("<html>")


def test_adding_the_same_files_again(tmp_path: Path, files: dict[str, Path]) -> None:
    index = tmp_path / "seen.db"
    assert run("index", "add", index, files["article"], files["other"]).exit_code == 0
    again = run("index", "add", index, files["article"], files["other"], files["again"])
    assert again.exit_code == 0
    lines = again.output.splitlines()
    assert lines[:2] == [
        f"{files['article']}: already indexed, not added",
        f"{files['other']}: already indexed, not added",
    ]
    assert lines[2].startswith(f"{files['again']}: near-duplicate of {files['article']}")
    # The same path twice in one run.
    twice = run("index", "add", tmp_path / "twice.db", files["other"], files["other"])
    assert twice.output.splitlines() == [
        f"{files['other']}: new, added",
        f"{files['other']}: already indexed, not added",
    ]
    # --all replaces the stored version with the file as it is now.
    files["other"].write_text("A completely different text about trains and timetables.\n" * 3)
    replaced = run("index", "add", "--all", index, files["other"])
    assert replaced.output == f"{files['other']}: already indexed, replaced\n"
    check = run("index", "check", index, files["other"])
    assert check.output.startswith(f"{files['other']}: near-duplicate of {files['other']}")
    assert "documents:       2" in run("index", "stats", index).output


def test_a_damaged_row_is_one_line_exit_2(tmp_path: Path, files: dict[str, Path]) -> None:
    index = tmp_path / "seen.db"
    run("index", "add", index, files["article"], files["other"])
    with sqlite3.connect(index) as db:
        db.execute("UPDATE docs SET shingles = x'0102'")
    db.close()
    for command in ("check", "add"):
        result = run("index", command, index, files["again"])
        assert result.exit_code == 2
        assert result.output == (
            f"dedupe: error: {index}: document {str(files['article'])!r} (docs row n=1) "
            "has a damaged shingle set (2 bytes, not a multiple of 8): remove that "
            "document or rebuild the index\n"
        )


def test_foreign_redis_keys_are_one_line_exit_2(tmp_path: Path, files: dict[str, Path]) -> None:
    server = RedisServer()
    try:
        assert run("index", "add", server.url, files["article"]).exit_code == 0
        server.client.set("dedupe:count", "abc")
        before = sorted(server.client.keys("*"))
        for args in (("stats",), ("check", files["again"]), ("add", files["other"])):
            result = run("index", args[0], server.url, *args[1:])
            assert result.exit_code == 2
            assert result.output == (
                f"dedupe: error: {server.url}: dedupe:count holds 'abc', not a number as in "
                "a dedupe index; nothing was changed\n"
            )
        assert sorted(server.client.keys("*")) == before
        server.client.flushall()
        lost = run("index", "stats", server.url)
        assert (lost.exit_code, lost.output) == (2, f"dedupe: error: no index at {server.url}\n")
    finally:
        server.stop()
