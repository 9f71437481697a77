"""DedupePipeline in a real Scrapy crawl of a small site served on loopback."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("scrapy")

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FOOTER = (SAMPLES / "rudaw-article.txt").read_text(encoding="utf-8").split("\n")[23:29]
VOCABULARY = (
    "the council voted on Monday to approve a new budget for roads schools and the "
    "hospital after months of talks between the mayor and opposition members who "
    "had demanded more money for water pipes and public transport in the old town"
)
WORDS = VOCABULARY.split()


def body(seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(50)).capitalize() + "." for _ in range(5)]


def page(paragraphs: list[str]) -> bytes:
    article = "".join(f"<p>{p}</p>" for p in paragraphs)
    footer = "".join(f"<p>{p}</p>" for p in FOOTER)
    html = f"<html><body><article>{article}</article><footer>{footer}</footer></body></html>"
    return html.encode("utf-8")


ARTICLES = {f"/news/{i}": body(i) for i in range(1, 6)}
PAGES = {path: page(paragraphs) for path, paragraphs in ARTICLES.items()}
# The same article under a second URL, and one scraped with its body twice.
PAGES["/amp/news/1"] = page(ARTICLES["/news/1"])
PAGES["/news/6"] = page(body(6) + body(6))
PAGES["/"] = (
    "<html><body>" + "".join(f'<a href="{p}">{p}</a>' for p in sorted(PAGES)) + "</body></html>"
).encode()


class Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        content = PAGES.get(self.path)
        self.send_response(200 if content else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(content or b"not found")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


CRAWL = """
import json
import sys

import scrapy
from scrapy.crawler import CrawlerProcess

start, index, items, stats = sys.argv[1:5]


class SiteSpider(scrapy.Spider):
    name = "site"
    start_urls = [start]

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            if href != "/":
                yield response.follow(href, self.parse_article)

    def parse_article(self, response):
        text = "\\n".join(p.strip() for p in response.css("p::text").getall())
        yield {"url": response.url, "text": text}


process = CrawlerProcess(settings={
    "ITEM_PIPELINES": {"dedupe.contrib.scrapy.DedupePipeline": 300},
    "DEDUPE_INDEX": index,
    "DEDUPE_CLEAN": True,
    "DEDUPE_DROP_DUPLICATES": True,
    "FEEDS": {items: {"format": "jsonlines"}},
    "ROBOTSTXT_OBEY": False,
    "TELNETCONSOLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 1,
    "LOG_LEVEL": "INFO",
})
crawler = process.create_crawler(SiteSpider)
process.crawl(crawler)
process.start()
with open(stats, "w") as fh:
    json.dump(crawler.stats.get_stats(), fh, default=str)
"""


@pytest.mark.slow
def test_a_real_crawl(site: str, tmp_path: Path) -> None:
    script = tmp_path / "crawl.py"
    script.write_text(CRAWL, encoding="utf-8")
    items_path, stats_path = tmp_path / "items.jsonl", tmp_path / "stats.json"
    run = subprocess.run(
        [sys.executable, str(script), site, str(tmp_path / "seen.db"), items_path, stats_path],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Deprecation" not in run.stderr
    items = [json.loads(line) for line in items_path.read_text(encoding="utf-8").splitlines()]
    stats = json.loads(stats_path.read_text(encoding="utf-8"))

    paths = sorted(item["url"].removeprefix(site[:-1]) for item in items)
    # Of /news/1 and /amp/news/1 exactly one is kept, whichever came first.
    assert len(paths) == 6
    assert set(paths) - {"/news/1", "/amp/news/1"} == {f"/news/{i}" for i in range(2, 7)}
    assert len({"/news/1", "/amp/news/1"} & set(paths)) == 1
    assert "near-duplicate of " + site[:-1] in run.stderr

    by_path = {item["url"].removeprefix(site[:-1]): item["text"].split("\n") for item in items}
    # The doubled body comes out once.
    assert by_path["/news/6"][:5] == body(6)
    assert by_path["/news/6"][5:] in ([], FOOTER)
    # The footer is learned from the first three documents and cut from the others.
    with_footer = [p for p, lines in by_path.items() if lines[-6:] == FOOTER]
    assert len(with_footer) == 2
    for p, lines in by_path.items():
        assert FOOTER[1] not in lines or p in with_footer

    assert stats["dedupe/items"] == 7
    assert stats["dedupe/duplicates"] == 1
    assert stats["dedupe/dropped"] == 1
    assert stats["item_dropped_count"] == 1
    assert stats["dedupe/paragraphs_removed"] == 5
    assert stats["dedupe/boilerplate_removed"] == 4 * len(FOOTER)


def test_an_item_with_a_lone_surrogate(tmp_path: Path) -> None:
    """Scraped JSON can carry "\\ud800"; the item is checked, cleaned and kept."""
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from dedupe.contrib.scrapy import DedupePipeline

    crawler = get_crawler(settings_dict={"DEDUPE_INDEX": str(tmp_path / "seen.db")})
    pipeline = DedupePipeline.from_crawler(crawler)
    pipeline.open_spider()
    paragraph = " ".join(body(1)) + " \ud800"
    try:
        item = pipeline.process_item({"text": f"{paragraph}\n{paragraph}"})
        assert item == {"text": paragraph}
        with pytest.raises(DropItem):
            pipeline.process_item({"url": "https://example.com/a", "text": paragraph})
    finally:
        pipeline.close_spider()
