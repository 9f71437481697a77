"""The index never answers or writes without its metadata, never half-writes
into keys of the wrong type, and names a damaged row instead of crashing:
a real redis-server and real SQLite files."""

from __future__ import annotations

import itertools
import random
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe import IndexStoreError, NearDuplicateIndex
from dedupe.errors import IndexLostError, InputError
from tests.test_index import WORDS, RedisServer, article

TEXT = "\n".join(article(1))
OTHER = "\n".join(article(2))


@pytest.fixture(scope="module")
def redis_here() -> Iterator[RedisServer]:
    running = RedisServer()
    yield running
    running.stop()


@pytest.fixture
def server(redis_here: RedisServer) -> RedisServer:
    redis_here.client.flushall()
    return redis_here


def snapshot(server: RedisServer) -> dict[bytes, object]:
    """Every key of the database and its value (not DUMP: a hash being rehashed
    dumps its fields in another order after a mere read)."""
    client = server.client
    read = {
        b"string": client.get,
        b"list": lambda k: client.lrange(k, 0, -1),
        b"set": client.smembers,
        b"hash": client.hgetall,
        b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
    }
    return {key: read[client.type(key)](key) for key in sorted(client.keys("*"))}


def every_call(index: NearDuplicateIndex) -> list[Callable[[], object]]:
    return [
        lambda: index.check(TEXT),
        lambda: index.check_and_add("b", OTHER),
        lambda: index.check_and_add("c", TEXT, site="a.example"),
        lambda: index.add("d", OTHER, site="a.example"),
        lambda: index.remove("a"),
        lambda: len(index),
        lambda: "a" in index,
        index.stats,
        lambda: index.clean(TEXT, site="a.example"),
    ]


# -- a Redis that loses the index while it is open --------------------------------


def test_flushall_while_open_is_an_error_and_writes_nothing(server: RedisServer) -> None:
    with NearDuplicateIndex(server.url) as index:
        index.add("a", TEXT, site="a.example")
        assert index.check(TEXT) is not None
        server.client.flushall()
        for call in every_call(index):
            with pytest.raises(IndexLostError, match="the index is gone"):
                call()
        assert server.client.dbsize() == 0  # not a key written without the metadata


def test_a_client_with_other_parameters_after_a_flush(server: RedisServer) -> None:
    with NearDuplicateIndex(server.url) as index:
        index.add("a", TEXT)
        server.client.flushall()
        with NearDuplicateIndex(server.url, threshold=0.9) as other:
            other.add("z", OTHER)
        with pytest.raises(IndexLostError, match="made again"):
            index.check(TEXT)
        with pytest.raises(IndexLostError, match="made again"):
            index.check_and_add("b", TEXT)
    with NearDuplicateIndex.existing(server.url) as reopened:
        assert reopened.params.threshold == 0.9
        assert len(reopened) == 1


def test_recreated_with_the_same_parameters_is_still_lost(server: RedisServer) -> None:
    # The documents it held are gone all the same: answering "new" for them
    # would be the silent "new" the index promises never to give.
    with NearDuplicateIndex(server.url) as index:
        index.add("a", TEXT)
        server.client.flushall()
        NearDuplicateIndex(server.url).close()
        with pytest.raises(IndexLostError):
            index.check(TEXT)


def test_a_restart_without_persistence() -> None:
    first = RedisServer()
    port = first.port
    try:
        index = NearDuplicateIndex(first.url)
        index.add("a", TEXT)
    finally:
        first.stop()
    second = RedisServer(port)  # the fixtures run redis-server without persistence
    try:
        with pytest.raises(IndexLostError, match="the index is gone"):
            index.check(TEXT)
        with pytest.raises(IndexLostError, match="the index is gone"):
            index.check_and_add("b", OTHER)
        assert second.client.dbsize() == 0
        index.close()
    finally:
        second.stop()


def test_an_index_of_an_earlier_version_gets_an_instance_id(server: RedisServer) -> None:
    with NearDuplicateIndex(server.url) as index:
        index.add("a", TEXT)
    server.client.hdel("dedupe:meta", "instance")
    with NearDuplicateIndex(server.url) as index:
        assert index.check(TEXT) is not None
        assert server.client.hget("dedupe:meta", "instance")


# -- keys of the wrong type: checked before anything is written ------------------

SITE = "a.example"
FOREIGN: dict[str, Callable[[Any], object]] = {
    "count-not-a-number": lambda c: c.set("dedupe:count", "abc"),
    "count-a-list": lambda c: (c.delete("dedupe:count"), c.rpush("dedupe:count", "x")),
    "count-padded": lambda c: c.set("dedupe:count", " 12"),
    "seq-not-a-number": lambda c: c.set("dedupe:seq", "1.5"),
    "sites-a-list": lambda c: (c.delete("dedupe:sites"), c.rpush("dedupe:sites", "x")),
    "sites-field-not-a-number": lambda c: c.hset("dedupe:sites", SITE, "many"),
    "site-a-string": lambda c: c.set(f"dedupe:site:{SITE}", "x"),
}


@pytest.mark.parametrize("damage", sorted(FOREIGN))
def test_foreign_keys_stop_an_add_before_it_writes(server: RedisServer, damage: str) -> None:
    with NearDuplicateIndex(server.url) as index:
        index.add("a", OTHER, site=SITE)
        FOREIGN[damage](server.client)
        before = snapshot(server)
        with pytest.raises(IndexStoreError, match="dedupe:") as raised:
            index.check_and_add("b", TEXT, site=SITE)
        assert "\n" not in str(raised.value)
        with pytest.raises(IndexStoreError, match="dedupe:"):
            index.add("a", TEXT, site=SITE)  # a replacement, too
        assert snapshot(server) == before
    if damage.startswith(("count", "seq", "sites-a")):  # the keys every call uses
        with pytest.raises(IndexStoreError, match="dedupe:"):
            NearDuplicateIndex(server.url)


@pytest.mark.parametrize("damage", ["count-not-a-number", "count-a-list", "sites-a-list"])
def test_foreign_keys_in_stats(server: RedisServer, damage: str) -> None:
    with NearDuplicateIndex(server.url) as index:
        index.add("a", OTHER, site=SITE)
        FOREIGN[damage](server.client)
        with pytest.raises(IndexStoreError, match=r"dedupe:(count|sites) holds "):
            index.stats()


def test_a_foreign_bucket_or_document_key(server: RedisServer) -> None:
    with NearDuplicateIndex(server.url) as index:
        index.add("a", TEXT)
        bucket = sorted(k for k in server.client.keys("dedupe:band:0:*"))[0]
        server.client.delete(bucket)
        server.client.set(bucket, "x")
        before = snapshot(server)
        with pytest.raises(IndexStoreError, match="holds a string, not a set"):
            index.check(TEXT)
        with pytest.raises(IndexStoreError, match="holds a string, not a set"):
            index.add("b", TEXT)
        with pytest.raises(IndexStoreError, match="holds a string, not a set"):
            index.remove("a")  # forgetting "a" would SREM from that bucket
        assert snapshot(server) == before
        server.client.delete(bucket)
        server.client.delete("dedupe:doc:c")
        server.client.set("dedupe:doc:c", "x")
        with pytest.raises(IndexStoreError, match="dedupe:doc:c holds a string"):
            index.add("c", TEXT)


def test_a_damaged_document_record_in_redis(server: RedisServer) -> None:
    with NearDuplicateIndex(server.url) as index:
        index.add("a", TEXT, site=SITE)
        server.client.hset("dedupe:doc:a", "shingles", b"\x01\x02")
        with pytest.raises(IndexStoreError, match=r"dedupe:doc:a has a damaged shingle set"):
            index.check(TEXT)
        with pytest.raises(IndexStoreError, match=r"dedupe:doc:a has a damaged shingle set"):
            index.check_and_add("b", TEXT)
        server.client.hset("dedupe:doc:a", "bands", b"\x01\x02\x03")
        before = snapshot(server)
        with pytest.raises(IndexStoreError, match=r"dedupe:doc:a has a damaged blob of band keys"):
            index.remove("a")
        with pytest.raises(IndexStoreError, match=r"dedupe:doc:a has a damaged blob of band keys"):
            index.add("a", OTHER)
        assert snapshot(server) == before


# -- SQLite: a damaged row, a file deleted or replaced while open -----------------


def make(path: Path) -> None:
    with NearDuplicateIndex(path) as index:
        index.add("a", TEXT, site=SITE)
        index.add("other", OTHER)


def damage_row(path: Path, statement: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(statement)
    db.close()


@pytest.mark.parametrize("blob", ["x'0102'", "'some text'", "x'02000000000000000100000000000000'"])
def test_a_damaged_shingle_blob(tmp_path: Path, blob: str) -> None:
    path = tmp_path / "seen.db"
    make(path)
    damage_row(path, f"UPDATE docs SET shingles = {blob} WHERE id = 'a'")
    where = f"{path}: document 'a' (docs row n=1) has a damaged shingle set"
    with NearDuplicateIndex(path) as index:
        with pytest.raises(IndexStoreError, match=re.escape(where)):
            index.check(TEXT)
        with pytest.raises(IndexStoreError, match="document 'a'"):
            index.check_and_add("b", TEXT)
        assert len(index) == 2
        assert index.check(OTHER) is not None  # other rows still answer


def test_damaged_band_and_paragraph_blobs(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    for column, values in (("bands", "band keys"), ("paragraphs", "paragraph hashes")):
        what = f"a damaged blob of {values}"
        path.unlink(missing_ok=True)
        make(path)
        damage_row(path, f"UPDATE docs SET {column} = x'010203' WHERE id = 'a'")
        with NearDuplicateIndex(path) as index:
            with pytest.raises(IndexStoreError, match=f"document 'a'.*{what}"):
                index.remove("a")
            with pytest.raises(IndexStoreError, match=f"document 'a'.*{what}"):
                index.add("a", OTHER, site=SITE)
            assert len(index) == 2  # rolled back: nothing half done
            assert "a" in index


def test_a_document_id_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    make(path)
    damage_row(path, "UPDATE docs SET id = CAST(x'61ff' AS TEXT) WHERE id = 'a'")
    with NearDuplicateIndex(path) as index, pytest.raises(IndexStoreError, match=r"corrupt.*UTF-8"):
        index.check(TEXT)


@pytest.mark.slow
def test_flipped_bytes_are_errors_never_crashes(tmp_path: Path) -> None:
    base = tmp_path / "base.db"
    with NearDuplicateIndex(base) as index:
        for i in range(60):
            index.add(f"doc{i}", f"{TEXT}\nUnique closing line {i} " + "word " * i, site=SITE)
    with sqlite3.connect(base) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = base.read_bytes()
    rng = random.Random(1)
    crashes = []
    for trial in range(300):
        damaged = bytearray(data)
        for _ in range(rng.choice([1, 4, 30])):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path = tmp_path / f"trial{trial}.db"
        path.write_bytes(bytes(damaged))
        try:
            with NearDuplicateIndex(path) as index:
                index.check(TEXT)
                index.stats()
                index.check_and_add("new", f"{TEXT} and more", site=SITE)
                index.add("doc3", OTHER, site=SITE)
                index.remove("doc5")
                index.clean(TEXT, site=SITE)
        except IndexStoreError:
            pass
        except Exception as exc:  # what this test is about: anything else is a crash
            crashes.append(f"trial {trial}: {type(exc).__name__}: {exc}")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert crashes == []


def test_the_file_deleted_while_open(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    with NearDuplicateIndex(path) as index:
        index.add("a", TEXT)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        for call in every_call(index):
            with pytest.raises(IndexLostError, match="deleted while open"):
                call()
    assert not path.exists()


def test_the_file_replaced_while_open(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    with NearDuplicateIndex(path) as index:
        index.add("a", TEXT)
        make(tmp_path / "new.db")
        (tmp_path / "new.db").replace(path)
        with pytest.raises(IndexLostError, match="replaced by another file"):
            index.check(TEXT)
        with pytest.raises(IndexLostError, match="replaced by another file"):
            index.add("b", OTHER)


# -- any Unicode ------------------------------------------------------------------


def test_ids_and_sites_that_are_not_unicode(tmp_path: Path) -> None:
    with NearDuplicateIndex(tmp_path / "seen.db") as index:
        with pytest.raises(InputError, match="document id 'a\\\\ud800' is not valid Unicode"):
            index.add("a\ud800", TEXT)
        with pytest.raises(InputError, match="site"):
            index.check_and_add("a", TEXT, site="x\udc00")
        with pytest.raises(InputError, match="document id"):
            index.remove("a\ud800")
        with pytest.raises(InputError, match="document id"):
            assert "a\ud800" not in index
        assert len(index) == 0


SURROGATE_TEXTS = [
    "a \ud800 b",
    " ".join(["a \ud800 b"] * 30),
    TEXT + "\nthe closing \udc00 line of the article, half an emoji \ud83d here",
]


@pytest.fixture(params=["sqlite", "redis"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "seen.db")
    server: RedisServer = request.getfixturevalue("redis_here")
    server.client.flushall()
    return server.url


def test_texts_with_lone_surrogates(url: str) -> None:
    with NearDuplicateIndex(url) as index:
        for i, text in enumerate(SURROGATE_TEXTS):
            assert index.check_and_add(f"doc{i}", text, site=SITE) is None
            match = index.check(text)
            assert match is not None
            assert (match.doc_id, match.similarity) == (f"doc{i}", 1.0)
            assert index.check_and_add(f"again{i}", text) == match
            index.clean(text, site=SITE)
        assert len(index) == len(SURROGATE_TEXTS)


PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.text(
        st.one_of(
            st.characters(categories=["Cs"]),  # lone surrogates, as in scraped JSON
            st.characters(exclude_categories=()),
            st.sampled_from([" ", "\n", "\r"]),
        ),
        max_size=6,
    ),
)


@settings(max_examples=150, deadline=None, report_multiple_bugs=False)
@given(st.lists(st.lists(PIECES, max_size=40).map(" ".join), min_size=1, max_size=5))
def test_any_unicode_through_the_index(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp, NearDuplicateIndex(Path(tmp, "seen.db")) as index:
        ids = (f"doc{i}" for i in itertools.count())
        for text in texts:
            doc_id = next(ids)
            index.add(doc_id, text, site=SITE)
            match = index.check(text)
            assert match is None or match.similarity == 1.0
            index.clean(text, site=SITE)
            assert doc_id in index
