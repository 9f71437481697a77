"""WARC/WET input of ``dedupe corpus``: real WARC 1.1 files written in the
test, one gzip member per record, as crawlers write them."""

from __future__ import annotations

import gzip
import json
import random
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedupe.cli.corpus import corpus
from dedupe.corpus.pipeline import CorpusOptions, write_corpus
from dedupe.io.sources import InputFormat, open_source

pytest.importorskip("fastwarc")

RNG = random.Random(13)
VOCAB = [f"w{n}" for n in range(3000)]


def words(count: int = 200) -> list[str]:
    return [RNG.choice(VOCAB) for _ in range(count)]


def near(text: list[str]) -> str:
    """``text`` with two words changed: Jaccard about 0.9."""
    out = list(text)
    out[50], out[150] = "changed", "edited"
    return " ".join(out)


class Writer:
    """WARC 1.1 records written by hand, each its own gzip member."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("wb")
        self.count = 0

    def record(self, kind: str, block: bytes, uri: str | None = None, **headers: str) -> None:
        self.count += 1
        lines = [
            "WARC/1.1",
            f"WARC-Type: {kind}",
            f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{self.count:012d}>",
            "WARC-Date: 2026-11-30T00:00:00Z",
            *([f"WARC-Target-URI: {uri}"] if uri else []),
            *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
            f"Content-Length: {len(block)}",
        ]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.file.write(gzip.compress(head + block + b"\r\n\r\n", mtime=0))

    def warcinfo(self) -> None:
        self.record("warcinfo", b"software: test\r\n", Content_Type="application/warc-fields")

    def conversion(self, uri: str, text: str) -> None:
        self.record("conversion", text.encode(), uri, Content_Type="text/plain")

    def response(self, uri: str, body: str, content_type: str = "text/html") -> None:
        http = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}; charset=utf-8\r\n"
            f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
        ).encode()
        self.record("response", http, uri, Content_Type="application/http; msgtype=response")

    def request(self, uri: str) -> None:
        block = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"
        self.record("request", block, uri, Content_Type="application/http; msgtype=request")

    def close(self) -> None:
        self.file.close()


def members(path: Path) -> list[bytes]:
    """The gzip members of ``path``, raw."""
    data = path.read_bytes()
    out, start = [], 0
    while start < len(data):
        inflater = zlib.decompressobj(wbits=31)
        inflater.decompress(data[start:])
        end = len(data) - len(inflater.unused_data)
        out.append(data[start:end])
        start = end
    return out


def wet_file(path: Path) -> dict[str, str]:
    """A WET file: a warcinfo record, then 6 documents of which b and d are
    near duplicates of a and c. Returns uri -> text."""
    a, c = words(), words()
    texts = {
        "http://one.example/a": " ".join(a),
        "http://two.example/b": near(a),
        "http://one.example/c": " ".join(c),
        "http://one.example/d": near(c),
        "http://two.example/e": " ".join(words()),
        "http://two.example/f": " ".join(words()),
    }
    writer = Writer(path)
    writer.warcinfo()
    for uri, text in texts.items():
        writer.conversion(uri, text)
    writer.close()
    return texts


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(corpus, [*args, "-q", "--workers", "1"])
    return result.exit_code, result.output


def test_wet_near_duplicates_dropped_and_kept_bytes_copied(tmp_path: Path) -> None:
    wet = tmp_path / "crawl.warc.wet.gz"
    wet_file(wet)
    code, output = run(str(wet), "-o", str(tmp_path / "out"))
    assert code == 0, output
    out = tmp_path / "out" / "corpus" / wet.name
    kept = members(out)
    given = members(wet)
    # warcinfo (0) skipped; b (2) and d (4) dropped; every other record's
    # gzip member is in the output byte for byte, in input order.
    assert kept == [given[k] for k in (1, 3, 5, 6)]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["documents_in"] == 6
    assert summary["duplicates"] == 2
    assert summary["skipped_records"] == {"warcinfo": 1}
    lines = (tmp_path / "out" / "clusters.jsonl").read_text().splitlines()
    clusters = [json.loads(line) for line in lines]
    assert {(m["id"], m["kept"]) for m in clusters} == {
        ("http://one.example/a", "http://one.example/a"),
        ("http://two.example/b", "http://one.example/a"),
        ("http://one.example/c", "http://one.example/c"),
        ("http://one.example/d", "http://one.example/c"),
    }


def test_many_files_and_jsonl_output_carry_the_uri_as_id_and_url(tmp_path: Path) -> None:
    first, second = tmp_path / "a.wet.gz", tmp_path / "b.wet.gz"
    texts = wet_file(first)
    writer = Writer(second)
    # A copy of a from the first file, and a page seen again under its URI.
    writer.conversion("http://three.example/a-copy", texts["http://one.example/a"])
    writer.conversion("http://two.example/e", " ".join(words()))
    writer.close()
    code, output = run(str(first), str(second), "-o", str(tmp_path / "out"), "--jsonl")
    assert code == 0, output
    rows = [
        json.loads(line)
        for name in ("a.jsonl.gz", "b.jsonl.gz")
        for line in gzip.decompress((tmp_path / "out" / "corpus" / name).read_bytes()).splitlines()
    ]
    ids = [r["id"] for r in rows]
    assert ids[:4] == [
        "http://one.example/a",
        "http://one.example/c",
        "http://two.example/e",
        "http://two.example/f",
    ]
    # The second e is its own page: its id is made unique with its record id.
    assert len(ids) == 5
    assert ids[4].startswith("http://two.example/e <urn:uuid:")
    assert all(r["url"] == r["id"].split(" ")[0] for r in rows)
    assert rows[0]["text"] == texts["http://one.example/a"]
    assert {r["warc_type"] for r in rows} == {"conversion"}


def test_warc_html_responses_and_other_records_counted(tmp_path: Path) -> None:
    pytest.importorskip("trafilatura")
    article = " ".join(words(120))
    page = "<html><body><article><p>{}</p></article></body></html>"
    warc = tmp_path / "crawl.warc.gz"
    writer = Writer(warc)
    writer.warcinfo()
    writer.request("http://one.example/p1")
    writer.response("http://one.example/p1", page.format(article))
    writer.response("http://one.example/p2", page.format(article))
    writer.response("http://one.example/p3", page.format(" ".join(words(120))))
    writer.response("http://one.example/logo.png", "PNG", content_type="image/png")
    writer.close()
    source = open_source([warc])
    options = CorpusOptions(workers=1)
    summary = write_corpus(source, tmp_path / "out", options=options)
    assert summary.documents_in == 3
    assert summary.duplicates == 1
    assert summary.skipped_records == {"request": 1, "response (not HTML)": 1, "warcinfo": 1}
    given = members(warc)
    assert members(tmp_path / "out" / "corpus" / warc.name) == [given[2], given[4]]
    summary = write_corpus(
        source, tmp_path / "json", options=options, output_format=InputFormat.JSONL
    )
    data = gzip.decompress((tmp_path / "json" / "corpus" / "crawl.jsonl.gz").read_bytes())
    rows = [json.loads(line) for line in data.splitlines()]
    assert [r["id"] for r in rows] == ["http://one.example/p1", "http://one.example/p3"]
    assert rows[0]["text"] == article


def test_truncated_warc_gz_is_one_error_line(tmp_path: Path) -> None:
    whole = tmp_path / "whole.wet.gz"
    wet_file(whole)
    data = whole.read_bytes()
    last = len(members(whole)[-1])
    # Cut in the last record's text, and in its header (which fastwarc
    # then drops without a word).
    for cut in (30, last - 20):
        broken = tmp_path / f"cut{cut}.wet.gz"
        broken.write_bytes(data[:-cut])
        code, output = run(str(broken), "-o", str(tmp_path / f"out{cut}"))
        assert code == 2, output
        lines = output.strip().splitlines()
        assert len(lines) == 1, output
        assert "truncated gzip member" in lines[0]
        assert str(broken) in lines[0]
        assert not (tmp_path / f"out{cut}").exists()
        code, output = run(
            str(broken), "-o", str(tmp_path / f"skip{cut}"), "--on-error", "skip", "--no-near-dups"
        )
        assert code == 0, output
        summary = json.loads((tmp_path / f"skip{cut}" / "summary.json").read_text())
        assert summary["bad_records"] == 1
        # The five whole documents before the cut are kept.
        assert summary["documents_out"] == 5


def test_one_gzip_stream_for_the_whole_file_is_refused(tmp_path: Path) -> None:
    wet = tmp_path / "a.wet.gz"
    wet_file(wet)
    whole = tmp_path / "whole.wet.gz"
    whole.write_bytes(gzip.compress(gzip.decompress(wet.read_bytes())))
    code, output = run(str(whole), "-o", str(tmp_path / "out"))
    assert code == 2
    assert "one gzip member per record" in output
