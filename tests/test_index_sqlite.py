"""The SQLite index file: foreign, corrupt and killed-writer cases, on real files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dedupe import IndexStoreError, NearDuplicateIndex
from dedupe.index import IndexParams
from tests.util import endless_writer

ARTICLE = "\n".join(
    f"Paragraph {i} of the article says that the council met on Monday to vote on the "
    f"new budget for roads, schools and the hospital in district number {i}."
    for i in range(8)
)


def make_index(path: Path, docs: int = 20) -> None:
    with NearDuplicateIndex(path) as index:
        for i in range(docs):
            index.add(f"doc{i}", f"{ARTICLE}\nUnique closing line {i} " + "word " * i)


def use(path: Path) -> None:
    """Open the index and touch every table."""
    with NearDuplicateIndex(path) as index:
        index.check(ARTICLE)
        len(index)
        index.add("new", ARTICLE, site="a.example")
        index.clean(ARTICLE, site="a.example")


def test_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with NearDuplicateIndex("sqlite:///rel.db") as index:
        index.add("a", ARTICLE)
    assert (tmp_path / "rel.db").exists()
    with NearDuplicateIndex(f"sqlite:///{tmp_path / 'abs.db'}") as index:
        index.add("a", ARTICLE)
    assert (tmp_path / "abs.db").exists()
    with NearDuplicateIndex(tmp_path / "path.db") as index:
        index.add("a", ARTICLE)
    with pytest.raises(IndexStoreError, match="unknown index URL scheme"):
        NearDuplicateIndex("mongodb://localhost/x")


def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    make_index(tmp_path / "seen.db", docs=1)
    with sqlite3.connect(tmp_path / "seen.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_missing_index_without_create(tmp_path: Path) -> None:
    with pytest.raises(IndexStoreError, match="no index"):
        NearDuplicateIndex(tmp_path / "missing.db", create=False)
    with pytest.raises(IndexStoreError, match="no index"):
        NearDuplicateIndex.existing(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(IndexStoreError, match="no directory"):
        NearDuplicateIndex(tmp_path / "nowhere" / "seen.db")


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(IndexStoreError, match="not a dedupe index"):
        NearDuplicateIndex(path)
    path.write_text("just some text\n", encoding="utf-8")
    with pytest.raises(IndexStoreError, match="not a dedupe index"):
        NearDuplicateIndex(path)
    with pytest.raises(IndexStoreError, match="directory"):
        NearDuplicateIndex(tmp_path)


def test_an_unrelated_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(IndexStoreError, match="SQLite database but not a dedupe index"):
        NearDuplicateIndex(path)
    with sqlite3.connect(path) as db:  # untouched
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["users"]


def test_an_index_with_a_foreign_meta_table(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE dedupe_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO dedupe_meta VALUES ('format', 'dedupe-near-duplicate-index')")
        db.execute("INSERT INTO dedupe_meta VALUES ('params', '{\"threshold\": \"high\"}')")
    with pytest.raises(IndexStoreError, match="parameters are unreadable"):
        NearDuplicateIndex(path)


def test_a_corrupt_index(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    make_index(path, docs=200)
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    # Scribble over everything after the 100-byte file header: schema and data pages.
    data[100:] = os.urandom(len(data) - 100)
    path.write_bytes(bytes(data))
    with pytest.raises(IndexStoreError, match="corrupt"):
        use(path)


def test_a_corrupt_data_page(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    make_index(path, docs=200)
    data = bytearray(path.read_bytes())
    # Keep the schema page, ruin the rest: the error comes on first use.
    data[4096:] = b"\xff" * (len(data) - 4096)
    path.write_bytes(bytes(data))
    with pytest.raises(IndexStoreError, match="corrupt"):
        use(path)


def test_a_truncated_index(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    make_index(path, docs=200)
    data = path.read_bytes()
    path.write_bytes(data[:50])
    with pytest.raises(IndexStoreError):
        use(path)


@pytest.mark.slow
def test_a_writer_killed_mid_write_leaves_a_usable_index(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    NearDuplicateIndex(path).close()
    writer = subprocess.Popen([sys.executable, "-c", endless_writer(3000), str(path)])
    try:
        deadline = time.monotonic() + 60
        while True:
            with NearDuplicateIndex(path) as index:
                if len(index) >= 30:
                    break
            assert time.monotonic() < deadline, "the writer added too little"
            assert writer.poll() is None
            time.sleep(0.05)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    body = " ".join(f"word{i}" for i in range(3000))
    with NearDuplicateIndex(path) as index:
        seen = len(index)
        assert seen >= 30
        match = index.check(f"document 0 {body} end 0")
        assert match is not None
        assert match.doc_id == "doc0"
        index.add("after", "something else entirely, written after the crash " * 5)
        assert len(index) == seen + 1
        assert index.stats().documents == seen + 1


def test_existing_creates_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    with NearDuplicateIndex.existing(path, create_with=IndexParams(threshold=0.9)) as index:
        assert index.params.threshold == 0.9
    with NearDuplicateIndex.existing(path, create_with=IndexParams()) as index:
        assert index.params.threshold == 0.9  # what is stored wins
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(IndexStoreError, match="no index"):
        NearDuplicateIndex.existing(empty)
    with NearDuplicateIndex(empty) as index:
        assert len(index) == 0
