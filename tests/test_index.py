"""NearDuplicateIndex on both backends: a real SQLite file and a real redis-server."""

from __future__ import annotations

import multiprocessing
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dedupe import IndexStoreError, NearDuplicateIndex
from dedupe.core.normalize import normalize
from dedupe.core.shingles import ShingleOptions, shingle_set
from dedupe.core.verify import jaccard
from tests.util import endless_writer

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SEED = (SAMPLES / "rudaw-article.txt").read_text(encoding="utf-8")
SEED_LINES = SEED.split("\n")
COMMENTS_POLICY = SEED_LINES[23:29]  # lines 24-29: on every article of the site
VOCABULARY = (
    "the minister said on Tuesday that talks with the regional government would resume "
    "after a delegation visited the capital to discuss oil exports budget salaries border "
    "security water rights and the return of displaced families to their villages while "
    "officials warned that protests could spread if the agreement was not signed soon"
)
WORDS = tuple(VOCABULARY.split())


def article(seed: int, paragraphs: int = 6) -> list[str]:
    """A synthetic news article body: ``paragraphs`` lines of 40-60 words."""
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 60))).capitalize() + "."
        for _ in range(paragraphs)
    ]


def edited(lines: list[str]) -> list[str]:
    """The same article with a small edit: one paragraph's last words changed."""
    out = list(lines)
    out[-1] = out[-1].rsplit(" ", 3)[0] + " according to officials."
    return out


def oracle(a: str, b: str) -> float:
    options = ShingleOptions(size=5)
    return jaccard(shingle_set(normalize(a), options), shingle_set(normalize(b), options))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A throwaway redis-server on a free loopback port, without persistence."""

    def __init__(self, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("no redis-server binary on PATH (Debian: apt-get install redis-server)")
        self.port = free_port() if port is None else port
        self.url = f"redis://127.0.0.1:{self.port}/0"
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        self.client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "redis"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "seen.db")
    server: RedisServer = request.getfixturevalue("redis_server")
    server.client.flushall()
    return server.url


def test_new_then_near_duplicate_with_exact_similarity(url: str) -> None:
    first = "\n".join(article(1))
    again = "\n".join(edited(article(1)))
    other = "\n".join(article(2))
    with NearDuplicateIndex(url) as index:
        assert index.check_and_add("https://a.example/1", first) is None
        assert index.check_and_add("https://a.example/2", other) is None
        match = index.check_and_add("https://a.example/1?utm=x", again)
        assert match is not None
        assert match.doc_id == "https://a.example/1"
        assert match.similarity == oracle(first, again)
        assert 0.8 <= match.similarity < 1.0
        assert len(index) == 2  # the near-duplicate was not added


def test_check_does_not_add_and_add_always_adds(url: str) -> None:
    text = "\n".join(article(3))
    with NearDuplicateIndex(url) as index:
        assert index.check(text) is None
        assert len(index) == 0
        index.add("a", text)
        index.add("b", text)
        assert len(index) == 2
        match = index.check(text)
        assert match is not None
        assert (match.doc_id, match.similarity) == ("a", 1.0)  # earliest wins a tie


def test_below_threshold_is_new(url: str) -> None:
    base = article(4)
    half = base[:3] + article(5)[:3]
    with NearDuplicateIndex(url) as index:
        index.add("a", "\n".join(base))
        assert oracle("\n".join(base), "\n".join(half)) < 0.8
        assert index.check("\n".join(half)) is None


def test_remove_and_replace(url: str) -> None:
    text = "\n".join(article(6))
    with NearDuplicateIndex(url) as index:
        index.add("a", text)
        assert index.remove("a") is True
        assert index.remove("a") is False
        assert index.check(text) is None
        assert len(index) == 0
        index.add("a", text)
        index.add("a", "\n".join(article(7)))  # same id: replaced
        assert len(index) == 1
        assert index.check(text) is None


def test_empty_text_is_never_a_match(url: str) -> None:
    with NearDuplicateIndex(url) as index:
        assert index.check_and_add("a", "") is None
        assert index.check_and_add("b", "  \n ") is None
        assert index.check("") is None
        assert len(index) == 2


def test_restart_keeps_what_was_seen(url: str) -> None:
    texts = ["\n".join(article(10 + i)) for i in range(5)]
    with NearDuplicateIndex(url) as index:
        for i, text in enumerate(texts):
            index.check_and_add(f"doc{i}", text, site="a.example")
    with NearDuplicateIndex(url) as index:
        assert len(index) == 5
        for i, text in enumerate(texts):
            match = index.check("\n".join(edited(text.split("\n"))))
            assert match is not None
            assert match.doc_id == f"doc{i}"
        assert index.stats().sites == 1


def test_other_parameters_are_refused(url: str) -> None:
    NearDuplicateIndex(url, threshold=0.8, ngram=5).close()
    for changed in ({"threshold": 0.9}, {"ngram": 3}, {"num_perm": 64}, {"seed": 2}):
        with pytest.raises(IndexStoreError, match="other parameters"):
            NearDuplicateIndex(url, **changed)  # type: ignore[arg-type]
    with NearDuplicateIndex.existing(url) as index:
        assert index.params.threshold == 0.8


def test_site_boilerplate_is_learned_and_explained(url: str) -> None:
    site = "www.rudaw.net"
    with NearDuplicateIndex(url, min_docs=3) as index:
        for i in range(3):
            before = index.clean(SEED, site=site)
            assert not before.boilerplate, f"learned too early, after {i} documents"
            crawled = "\n".join([f"Headline {i}", *article(100 + i), *COMMENTS_POLICY])
            assert index.check_and_add(f"https://www.rudaw.net/{i}", crawled, site=site) is None

        result = index.clean(SEED, site=site)
        # Lines 13-23 repeat lines 2-12 (in-document); lines 24-29 are the site's block.
        assert [r.paragraph.line_start for r in result.cleaned.removed] == list(range(13, 24))
        assert [b.paragraph.line_start for b in result.boilerplate] == list(range(24, 30))
        assert {(b.documents, b.site_documents) for b in result.boilerplate} == {(3, 3)}
        assert result.text == "\n".join(SEED_LINES[:12])
        assert result.paragraphs_removed == 17
        assert index.clean(SEED, site="other.example").boilerplate == ()


def test_boilerplate_needs_a_share_of_the_site(url: str) -> None:
    site = "a.example"
    with NearDuplicateIndex(url, min_docs=2, min_share=0.5) as index:
        for i in range(2):
            index.add(f"with{i}", "\n".join([*article(200 + i), *COMMENTS_POLICY]), site=site)
        assert len(index.clean("\n".join(COMMENTS_POLICY), site=site).boilerplate) == 6
        for i in range(3):
            index.add(f"without{i}", "\n".join(article(300 + i)), site=site)
        # 2 of 5 documents is under half the site.
        assert index.clean("\n".join(COMMENTS_POLICY), site=site).boilerplate == ()
        index.remove("without0")
        assert len(index.clean("\n".join(COMMENTS_POLICY), site=site).boilerplate) == 6


def test_near_duplicates_do_not_count_as_site_documents(url: str) -> None:
    text = "\n".join([*article(400), *COMMENTS_POLICY])
    with NearDuplicateIndex(url, min_docs=2) as index:
        assert index.check_and_add("a", text, site="a.example") is None
        assert index.check_and_add("b", text, site="a.example") is not None
        assert index.clean(text, site="a.example").boilerplate == ()


def _add_rounds(url: str, worker: int, rounds: int, barrier: Any, out: Any) -> None:
    with NearDuplicateIndex(url) as index:
        for r in range(rounds):
            lines = article(1000 + r)
            if worker:
                lines = edited(lines)
            barrier.wait()
            match = index.check_and_add(f"round{r}-worker{worker}", "\n".join(lines))
            out.put((r, worker, match is None))


@pytest.mark.slow
def test_two_processes_adding_the_same_near_duplicate(url: str) -> None:
    rounds = 25
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    out = ctx.Queue()
    NearDuplicateIndex(url).close()  # created before the race
    workers = [
        ctx.Process(target=_add_rounds, args=(url, w, rounds, barrier, out)) for w in range(2)
    ]
    for w in workers:
        w.start()
    results = [out.get(timeout=60) for _ in range(2 * rounds)]
    for w in workers:
        w.join(30)
        assert w.exitcode == 0
    for r in range(rounds):
        new = [worker for rr, worker, is_new in results if rr == r and is_new]
        assert len(new) == 1, f"round {r}: told new: {new}"
    with NearDuplicateIndex(url) as index:
        assert len(index) == rounds


@pytest.mark.slow
def test_redis_going_away_mid_crawl_is_an_error() -> None:
    server = RedisServer()
    try:
        index = NearDuplicateIndex(server.url)
        text = "\n".join(article(500))
        assert index.check_and_add("a", text) is None
    finally:
        server.stop()
    with pytest.raises(IndexStoreError, match="unreachable"):
        index.check_and_add("b", "\n".join(article(501)))
    with pytest.raises(IndexStoreError, match="unreachable"):
        index.check(text)
    with pytest.raises(IndexStoreError):
        len(index)
    index.close()


def test_redis_unreachable_on_open() -> None:
    pytest.importorskip("redis")
    with pytest.raises(IndexStoreError, match="unreachable"):
        NearDuplicateIndex(f"redis://127.0.0.1:{free_port()}/0")


def test_redis_foreign_meta_is_refused(redis_server: RedisServer) -> None:
    redis_server.client.flushall()
    redis_server.client.hset("dedupe:meta", "format", "something else")
    with pytest.raises(IndexStoreError, match="not a dedupe index"):
        NearDuplicateIndex(redis_server.url)
    redis_server.client.flushall()
    redis_server.client.set("dedupe:meta", "a string")
    with pytest.raises(IndexStoreError):
        NearDuplicateIndex(redis_server.url)
    redis_server.client.flushall()
    with pytest.raises(IndexStoreError, match="no index"):
        NearDuplicateIndex.existing(redis_server.url)


def test_public_names() -> None:
    import dedupe

    for name in (
        "BoilerplateRemoval",
        "Extractor",
        "HtmlCleanResult",
        "IndexCleanResult",
        "IndexMatch",
        "IndexStats",
        "NearDuplicateIndex",
        "clean_html",
    ):
        assert name in dedupe.__all__
        assert getattr(dedupe, name) is not None
    assert dedupe.__all__ == sorted(dedupe.__all__)


@pytest.mark.slow
def test_a_writer_killed_mid_write_leaves_redis_consistent(redis_server: RedisServer) -> None:
    redis_server.client.flushall()
    NearDuplicateIndex(redis_server.url).close()
    writer = subprocess.Popen([sys.executable, "-c", endless_writer(2000), redis_server.url])
    try:
        deadline = time.monotonic() + 60
        while int(redis_server.client.get("dedupe:count") or 0) < 20:
            assert time.monotonic() < deadline, "the writer added too little"
            assert writer.poll() is None
            time.sleep(0.05)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    # Every add is one MULTI/EXEC: the counters agree with the documents stored.
    docs = list(redis_server.client.scan_iter("dedupe:doc:*"))
    with NearDuplicateIndex(redis_server.url) as index:
        assert len(index) == len(docs) >= 20
        assert index.stats().documents == len(docs)
        assert int(redis_server.client.hget("dedupe:sites", "a.example") or 0) == len(docs)
        body = " ".join(f"word{i}" for i in range(2000))
        match = index.check(f"document 0 {body} end 0")
        assert match is not None
        assert match.doc_id == "doc0"
