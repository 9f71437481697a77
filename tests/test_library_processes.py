"""dedupe_corpus called the way the README shows it: from a script without a
main guard, from ``python -c`` and ``python -m``, inside a Scrapy crawl; small
inputs in this process, with the same output as a pool of workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dedupe.corpus.executors import ProcessExecutor
from dedupe.corpus.pipeline import CorpusOptions, dedupe_corpus, is_small, write_corpus
from dedupe.io.sources import RecordsSource, open_source
from dedupe.params import IN_PROCESS_MAX_BYTES
from tests.test_corpus import corpus_file, crawl, outputs, planted

ROOT = Path(__file__).resolve().parents[1]

# A plain script: no `if __name__ == "__main__":`. Two workers are asked for,
# so the pool starts even for this small input.
SCRIPT = """\
import json, random, sys
import dedupe

vocabulary = [f"word{n}" for n in range(500)]
docs = [
    {"id": str(i), "text": " ".join(random.Random(i).choices(vocabulary, k=60))}
    for i in range(6)
]
docs.append({"id": "copy", "text": docs[0]["text"]})
options = dedupe.CorpusOptions(workers=WORKERS)
with dedupe.dedupe_corpus(docs, id_field="id", options=options) as result:
    kept = [record["id"] for record in result]
    summary = result.summary
print(json.dumps({"kept": kept, "workers": summary.workers,
                  "numba": "dedupe.core._minhash_numba" in sys.modules}))
"""


def python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )


def answer(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    last: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return last


EXPECTED_KEPT = ["0", "1", "2", "3", "4", "5"]


def test_a_script_without_a_main_guard_runs_a_pool_of_workers(tmp_path: Path) -> None:
    script = tmp_path / "plain.py"
    script.write_text(SCRIPT.replace("WORKERS", "2"), encoding="utf-8")
    found = answer(python(str(script), cwd=tmp_path))
    assert found["kept"] == EXPECTED_KEPT
    assert found["workers"] == 2


def test_a_module_without_a_main_guard_run_with_dash_m(tmp_path: Path) -> None:
    (tmp_path / "plain_module.py").write_text(SCRIPT.replace("WORKERS", "2"), encoding="utf-8")
    found = answer(python("-m", "plain_module", cwd=tmp_path))
    assert found["kept"] == EXPECTED_KEPT
    assert found["workers"] == 2


def test_code_given_with_dash_c_like_a_notebook_cell(tmp_path: Path) -> None:
    found = answer(python("-c", SCRIPT.replace("WORKERS", "2"), cwd=tmp_path))
    assert found["kept"] == EXPECTED_KEPT
    assert found["workers"] == 2


def test_a_small_input_runs_in_this_process_without_the_compiled_signer(tmp_path: Path) -> None:
    script = tmp_path / "small.py"
    script.write_text(SCRIPT.replace("WORKERS", "None"), encoding="utf-8")
    found = answer(python(str(script), cwd=tmp_path))
    assert found == {"kept": EXPECTED_KEPT, "workers": 1, "numba": False}


CRAWL = """\
import json, sys
import scrapy
from scrapy.crawler import CrawlerProcess
import dedupe

out = sys.argv[1]
PAGE = "the council voted on monday to approve a new budget for roads and schools "


class Pages(scrapy.Spider):
    name = "pages"
    start_urls = [f"data:text/plain,{PAGE * 3} page {i}" for i in range(5)]

    def parse(self, response):
        yield {"id": response.text.split()[-1], "text": response.text}


class Corpus:
    def open_spider(self, spider):
        self.items = []

    def process_item(self, item, spider):
        self.items.append(dict(item))
        return item

    def close_spider(self, spider):
        # Inside the running crawl: the reactor and its threads are up.
        options = dedupe.CorpusOptions(workers=2)
        items = sorted(self.items, key=lambda item: item["id"])
        with dedupe.dedupe_corpus(items, id_field="id", options=options) as result:
            kept = [record["id"] for record in result]
            workers = result.summary.workers
        with open(out, "w") as file:
            json.dump({"kept": kept, "workers": workers}, file)


process = CrawlerProcess(settings={
    "ITEM_PIPELINES": {"__main__.Corpus": 100},
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "ERROR",
})
process.crawl(Pages)
process.start()
"""


def test_inside_a_scrapy_crawl_script_without_a_main_guard(tmp_path: Path) -> None:
    pytest.importorskip("scrapy")
    script = tmp_path / "crawl.py"
    script.write_text(CRAWL, encoding="utf-8")
    out = tmp_path / "out.json"
    run = python(str(script), str(out), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    found = json.loads(out.read_text(encoding="utf-8"))
    # Five pages alike but for their number: one stays.
    assert found == {"kept": ["0"], "workers": 2}


START_METHOD = """\
import threading
from dedupe.corpus.executors import start_method

alone = start_method()
stop = threading.Event()
thread = threading.Thread(target=stop.wait)
thread.start()
print(alone, start_method())
stop.set()
"""


SPIDER = """\
import json
import scrapy
import dedupe


class Corpus:
    def open_spider(self, spider):
        self.items = []

    def process_item(self, item, spider):
        self.items.append(dict(item))
        return item

    def close_spider(self, spider):
        options = dedupe.CorpusOptions(workers=2)
        with dedupe.dedupe_corpus(self.items, id_field="id", options=options) as result:
            kept = [record["id"] for record in result]
            workers = result.summary.workers
        with open(spider.out, "w") as file:
            json.dump({"kept": kept, "workers": workers}, file)


class Pages(scrapy.Spider):
    name = "pages"
    custom_settings = {
        "ITEM_PIPELINES": {"spider.Corpus": 100},
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR",
    }

    def __init__(self, url, out, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [url]
        self.out = out

    def parse(self, response):
        yield {"id": "0", "text": response.text}
        yield {"id": "1", "text": response.text + " again"}
"""


class Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = " ".join(f"word{n}" for n in range(200)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_in_a_scrapy_runspider_process(tmp_path: Path) -> None:
    """``scrapy runspider``/``scrapy crawl``: Twisted threads are running (the
    pool spawns its workers) and the main script is Scrapy's own."""
    pytest.importorskip("scrapy")
    (tmp_path / "spider.py").write_text(SPIDER, encoding="utf-8")
    out = tmp_path / "out.json"
    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://localhost:{server.server_address[1]}/"
    try:
        run = python(
            "-m",
            "scrapy",
            "runspider",
            "spider.py",
            "-a",
            f"url={url}",
            "-a",
            f"out={out}",
            cwd=tmp_path,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == {"kept": ["0"], "workers": 2}


def test_fork_only_when_spawn_would_run_a_script_again_and_no_thread_runs(
    tmp_path: Path,
) -> None:
    script = tmp_path / "method.py"
    script.write_text(START_METHOD, encoding="utf-8")
    as_script = python(str(script), cwd=tmp_path)
    as_code = python("-c", START_METHOD, cwd=tmp_path)
    fork = "fork" if sys.platform == "linux" else "spawn"
    assert as_script.stdout.split() == [fork, "spawn"], as_script.stderr
    # Nothing to run again: spawn, which is safe with any thread.
    assert as_code.stdout.split() == ["spawn", "spawn"], as_code.stderr


def test_a_forked_pool_maps_in_order() -> None:
    executor = ProcessExecutor(2)
    try:
        assert list(executor.map(abs, range(-30, 0))) == list(range(30, 0, -1))
    finally:
        executor.close()


def run(records: list[dict[str, Any]], options: CorpusOptions) -> dict[str, Any]:
    with dedupe_corpus(records, options=options, id_field="id") as result:
        out = list(result)
        return {
            "records": out,
            "members": result.cluster_members(),
            "edges": result.edges.tolist(),
            "edge_similarity": result.edge_similarity.tolist(),
            "boilerplate": result.boilerplate,
            "summary": (
                result.summary.documents_out,
                result.summary.clusters,
                result.summary.candidate_pairs,
                result.summary.bytes_removed,
            ),
            "workers": result.summary.workers,
        }


def test_in_process_and_a_forced_pool_give_the_same_result() -> None:
    records = planted()[0] + crawl()
    alone = run(records, CorpusOptions())
    pool = run(records, CorpusOptions(workers=2, chunk_size=32))
    assert (alone.pop("workers"), pool.pop("workers")) == (1, 2)
    assert alone == pool
    assert alone["members"]
    assert alone["boilerplate"]


def test_same_files_in_process_and_from_a_forced_pool(tmp_path: Path) -> None:
    source = open_source([corpus_file(tmp_path, planted()[0] + crawl())], id_field="id")
    alone = write_corpus(source, tmp_path / "alone")
    pool = write_corpus(source, tmp_path / "pool", options=CorpusOptions(workers=2))
    assert (alone.workers, pool.workers) == (1, 2)
    assert outputs(tmp_path / "alone") == outputs(tmp_path / "pool")


class Again:
    """Records read afresh each time (from a database, say), of unknown number."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)


def test_what_counts_as_small(tmp_path: Path) -> None:
    text = "x" * 1000
    few = [{"text": text}] * 10
    assert is_small(RecordsSource(few))
    assert not is_small(RecordsSource(few), limit=10 * 1000)
    assert not is_small(RecordsSource([{"text": text}] * (IN_PROCESS_MAX_BYTES // 1000 + 1)))
    # A re-iterable of unknown size is not read just to tell.
    assert not is_small(RecordsSource(Again(few)))
    path = corpus_file(tmp_path, few)
    assert is_small(open_source([path]))
    assert not is_small(open_source([path]), limit=path.stat().st_size)
    pages = tmp_path / "pages"
    (pages / "sub").mkdir(parents=True)
    for name in ("a.txt", "sub/b.txt"):
        (pages / name).write_text(text, encoding="utf-8")
    (pages / "big.bin").write_bytes(b"x" * 5000)  # not input
    assert is_small(open_source([pages]), limit=2001)
    assert not is_small(open_source([pages]), limit=2000)
