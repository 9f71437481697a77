"""dedupe corpus: planted near-duplicates against an exact oracle, chains,
determinism, boilerplate on a crawl-like set, inputs, bad records, atomic output."""

from __future__ import annotations

import functools
import gzip
import itertools
import json
import os
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from dedupe.cleaning.groups import KeepPolicy
from dedupe.cli.corpus import corpus
from dedupe.core.keys import site_of
from dedupe.core.normalize import normalize
from dedupe.core.shingles import ShingleOptions, shingle_set
from dedupe.core.verify import jaccard
from dedupe.corpus import boilerplate
from dedupe.corpus.boilerplate import (
    BoilerplateOptions,
    Family,
    KeyStore,
    family_documents,
)
from dedupe.corpus.clusters import connected_components, resolve_clusters
from dedupe.corpus.near_duplicates import NearDupOptions, document_shingles, sorted_jaccard
from dedupe.corpus.pipeline import CorpusOptions, OnError, dedupe_corpus, write_corpus
from dedupe.errors import InputError, OptionsError, OutputError
from dedupe.io.sinks import _copy_range
from dedupe.io.sources import Item, JsonlSource, Partition, RecordsSource, open_source

ROOT = Path(__file__).resolve().parents[1]
RUDAW = ROOT / "samples" / "rudaw-article.txt"
PAGES = Path(__file__).parent / "data" / "pages" / "readability.jsonl.gz"
VOCAB = [f"w{i}" for i in range(20000)]
NGRAM = 5

SERIAL = CorpusOptions(workers=1)


@functools.cache
def shingles(text: str) -> frozenset[int]:
    """Shingled one text at a time, apart from the batch path the corpus uses."""
    return shingle_set(normalize(text), ShingleOptions(size=NGRAM))


def exact(a: str, b: str) -> float:
    """The oracle: Jaccard of the full shingle sets, as frozensets."""
    return jaccard(shingles(a), shingles(b))


def edit(words: list[str], rng: random.Random, count: int, span: range | None = None) -> list[str]:
    """``words`` with ``count`` words replaced at distinct positions at least 6 apart."""
    out = list(words)
    where = list(span or range(len(words)))
    chosen: list[int] = []
    while len(chosen) < count:
        p = rng.choice(where)
        if all(abs(p - q) > NGRAM for q in chosen):
            chosen.append(p)
    for p in chosen:
        out[p] = rng.choice(VOCAB)
    return out


def planted(seed: int = 7) -> tuple[list[dict[str, Any]], set[frozenset[str]]]:
    """60 random documents of 200 words; every third gets two close variants
    (2 words edited: Jaccard about 0.9) and one far variant (25 edited, about
    0.4). Variants come after all originals. Returns records and the expected
    clusters (by id)."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    variants: list[dict[str, Any]] = []
    expected: set[frozenset[str]] = set()
    for d in range(60):
        words = [rng.choice(VOCAB) for _ in range(200)]
        records.append({"id": f"doc{d}", "text": " ".join(words), "score": rng.random()})
        if d % 3 == 0:
            group = {f"doc{d}"}
            for v in range(2):
                vid = f"doc{d}-near{v}"
                variants.append(
                    {"id": vid, "text": " ".join(edit(words, rng, 2)), "score": rng.random()}
                )
                group.add(vid)
            variants.append(
                {"id": f"doc{d}-far", "text": " ".join(edit(words, rng, 25)), "score": rng.random()}
            )
            expected.add(frozenset(group))
    rng.shuffle(variants)
    return records + variants, expected


def clusters_of(members: list[Any]) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = defaultdict(set)
    for m in members:
        groups[m.cluster].add(m.id)
    return {frozenset(g) for g in groups.values()}


def test_planted_clusters_match_the_exact_oracle() -> None:
    records, expected = planted()
    texts = {r["id"]: r["text"] for r in records}
    # The oracle over all pairs: exactly the planted pairs are duplicates.
    oracle = {
        frozenset((a, b))
        for a, b in itertools.combinations(texts, 2)
        if exact(texts[a], texts[b]) >= 0.8
    }
    planted_pairs = {frozenset(p) for g in expected for p in itertools.combinations(g, 2)}
    assert oracle == planted_pairs

    with dedupe_corpus(records, options=SERIAL, id_field="id") as result:
        out = list(result)
        members = result.cluster_members()
        summary = result.summary
    assert clusters_of(members) == expected
    for m in members:
        assert m.kept == m.id.split("-")[0]  # keep first: the original
        assert m.similarity_to_kept == pytest.approx(exact(texts[m.id], texts[m.kept]), abs=1e-6)
    kept_ids = {r["id"] for r in out}
    assert kept_ids == set(texts) - {m.id for m in members if m.id != m.kept}
    assert summary.documents_in == len(records)
    assert summary.documents_out == len(records) - 40
    assert summary.clusters == 20
    assert summary.duplicates == 40
    assert summary.bytes_removed.near_dups == sum(
        len(texts[m.id].encode()) for m in members if m.id != m.kept
    )


def test_chain_keeps_c_when_it_is_unlike_the_kept_a() -> None:
    rng = random.Random(3)
    a = [rng.choice(VOCAB) for _ in range(200)]
    b = edit(a, rng, 3, range(0, 90))
    c = edit(b, rng, 3, range(110, 200))
    texts = {"A": " ".join(a), "B": " ".join(b), "C": " ".join(c)}
    assert exact(texts["A"], texts["B"]) >= 0.8
    assert exact(texts["B"], texts["C"]) >= 0.8
    assert exact(texts["A"], texts["C"]) < 0.8
    records = [{"id": k, "text": v} for k, v in texts.items()]
    with dedupe_corpus(records, options=SERIAL, id_field="id") as result:
        kept = [r["id"] for r in result]
        members = result.cluster_members()
    assert kept == ["A", "C"]
    assert clusters_of(members) == {frozenset({"A", "B"})}


def test_a_member_unlike_the_first_kept_joins_another_kept_document() -> None:
    # 0~1, 1~2, 2~3; 0 is unlike 2 and 3; keep order is input order.
    pairs = np.array([[0, 1], [1, 2], [2, 3]], dtype=np.int64)
    sims = np.array([0.9, 0.9, 0.9])
    far = {(0, 2): 0.5, (0, 3): 0.3}

    def measure(asked: np.ndarray) -> np.ndarray:
        return np.array([far[(int(i), int(j))] for i, j in asked])

    clusters = resolve_clusters(pairs, sims, np.arange(4), threshold=0.8, measure=measure)
    # 1 goes with 0; 2 is unlike 0 and its only kept neighbour... is none, so it is kept; 3 joins 2.
    assert clusters.documents.tolist() == [0, 1, 2, 3]
    assert clusters.kept.tolist() == [0, 0, 2, 2]
    assert clusters.cluster.tolist() == [0, 0, 1, 1]
    assert clusters.similarity.tolist() == [1.0, 0.9, 1.0, 0.9]


def test_connected_components_equal_a_union_find() -> None:
    rng = np.random.default_rng(5)
    n = 500
    edges = rng.integers(0, n, size=(400, 2))
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v in edges.tolist():
        ru, rv = find(u), find(v)
        parent[max(ru, rv)] = min(ru, rv)
    expected = [min(i for i in range(n) if find(i) == find(x)) for x in range(n)]
    assert connected_components(edges, n).tolist() == expected


def test_exact_jaccard_on_arrays_equals_the_set_measure() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        a = np.unique(rng.integers(0, 60, size=rng.integers(0, 40)).astype(np.uint64))
        b = np.unique(rng.integers(0, 60, size=rng.integers(0, 40)).astype(np.uint64))
        assert sorted_jaccard(a, b) == jaccard(frozenset(a.tolist()), frozenset(b.tolist()))


# ---- a crawl-like set: boilerplate ----

FOOTER = "\n".join(RUDAW.read_text(encoding="utf-8").splitlines()[23:29])


def article_bodies(count: int) -> list[str]:
    with gzip.open(PAGES, "rt", encoding="utf-8") as file:
        rows = [json.loads(line) for line in file]
    bodies = [r["main_text"].strip() for r in rows if len(r["main_text"]) > 1500]
    return ["\n".join(line for line in b.splitlines() if line.strip()) for b in bodies[:count]]


def crawl() -> list[dict[str, Any]]:
    """Ten rudaw.net articles ending with the site's comments policy, one
    article of the site without it, three copies of a foreign article."""
    bodies = article_bodies(12)
    records = [
        {"id": f"rudaw-{i}", "url": f"https://www.rudaw.net/english/{i}", "text": f"{b}\n{FOOTER}"}
        for i, b in enumerate(bodies[:10])
    ]
    records.append(
        {"id": "rudaw-unique", "url": "https://www.rudaw.net/english/x", "text": bodies[10]}
    )
    records += [
        {"id": f"copy-{i}", "url": f"https://example.org/{i}", "text": bodies[11]} for i in range(3)
    ]
    return records


def test_boilerplate_is_cut_from_every_article_of_the_site() -> None:
    records = crawl()
    bodies = article_bodies(12)
    options = CorpusOptions(workers=1, clean=None)
    with dedupe_corpus(records, options=options, id_field="id") as result:
        out = {r["id"]: r["text"] for r in result}
        boilerplate = result.boilerplate
        summary = result.summary
    for i in range(10):
        assert out[f"rudaw-{i}"] == bodies[i]  # the footer lines cut, every other byte kept
    assert out["rudaw-unique"] == bodies[10]
    assert set(out) == {*(f"rudaw-{i}" for i in range(10)), "rudaw-unique", "copy-0"}
    assert out["copy-0"] == bodies[11]  # its copies are dropped, not counted as boilerplate
    footer_lines = FOOTER.splitlines()
    assert [b.text for b in boilerplate] == sorted(footer_lines)
    assert {b.documents for b in boilerplate} == {10}
    assert {b.sites for b in boilerplate} == {("rudaw.net",)}
    assert summary.bytes_removed.boilerplate == 10 * (len(FOOTER.encode()) + 1)


def varied_crawl() -> tuple[list[dict[str, Any]], list[str]]:
    """The crawl with its comments policy in three forms: five pages as it
    is, four with one word added (about 0.97 similar), one with a one-off
    edit. No form alone is on half the site's eleven pages; the first two
    together are. Returns the records and each rudaw article's form."""
    records = crawl()
    policy = FOOTER.splitlines()[1]
    edited = policy.removesuffix(".") + " English."
    one_off = policy.removesuffix(".") + " and its work."
    forms = [policy] * 5 + [edited] * 4 + [one_off]
    for record, form in zip(records, forms, strict=False):
        record["text"] = record["text"].replace(policy, form)
    return records, forms


def test_near_duplicate_variants_of_a_footer_are_counted_together() -> None:
    records, forms = varied_crawl()
    policy, edited, one_off = forms[0], forms[5], forms[9]
    near = CorpusOptions(workers=1, clean=None)
    with dedupe_corpus(records, options=near, id_field="id") as result:
        out = {r["id"]: r["text"] for r in result}
        boilerplate = {b.text: b.documents for b in result.boilerplate}
    for i in range(9):
        assert policy not in out[f"rudaw-{i}"]
        assert edited not in out[f"rudaw-{i}"]
        assert "Post a comment" not in out[f"rudaw-{i}"]
    # Seen once, the one-off form is not counted; the rest of its footer goes.
    assert out["rudaw-9"].endswith(one_off)
    assert boilerplate[policy] == 5
    assert boilerplate[edited] == 4
    assert one_off not in boilerplate

    exact = CorpusOptions(
        workers=1, clean=None, boilerplate=BoilerplateOptions(near_threshold=None)
    )
    with dedupe_corpus(records, options=exact, id_field="id") as result:
        out = {r["id"]: r["text"] for r in result}
        texts = {b.text for b in result.boilerplate}
    assert sum(form in out[f"rudaw-{i}"] for i, form in enumerate(forms)) == 10
    assert texts == set(FOOTER.splitlines()) - {policy}
    # A stricter threshold than the edit's similarity keeps the two forms apart.
    strict = CorpusOptions(
        workers=1, clean=None, boilerplate=BoilerplateOptions(near_threshold=0.99)
    )
    with dedupe_corpus(records, options=strict, id_field="id") as result:
        assert len(list(result)) == 12
        assert {b.text for b in result.boilerplate} == texts


def test_cli_boilerplate_near_zero_counts_exact_repeats_only(tmp_path: Path) -> None:
    records, forms = varied_crawl()
    path = corpus_file(tmp_path, records)
    for near, kept in (("0.8", 1), ("0", 10)):
        out = tmp_path / f"out-{near}"
        args = [str(path), "-o", str(out), "--id-field", "id", "--no-clean", "-q", "--workers", "1"]
        result = CliRunner().invoke(corpus, [*args, "--boilerplate-near", near])
        assert result.exit_code == 0, result.output
        lines = (out / "corpus" / "in.jsonl").read_text(encoding="utf-8").splitlines()
        texts = [json.loads(line)["text"] for line in lines]
        assert sum(form in texts[i] for i, form in enumerate(forms)) == kept


def test_a_family_counts_each_document_once_on_its_own_site(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.u64")
    for keys in ([1, 2], [1], [2, 3], [3]):
        store.append(np.array(keys, dtype=np.uint64), np.array([len(keys)]))
    store.close()
    family = [Family(0, (1, 2), (2, 2)), Family(0, (3,), (2,))]
    everyone = np.ones(4, dtype=bool)
    one_site = np.zeros(4, dtype=np.int64)
    assert family_documents(store, one_site, everyone, family).tolist() == [3, 2]
    assert family_documents(store, one_site, everyone != [1, 0, 0, 0], family).tolist() == [2, 2]
    assert family_documents(store, np.array([0, 1, 0, 1]), everyone, family).tolist() == [2, 1]


def test_near_candidates_are_a_sites_most_widespread_repeated_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(boilerplate, "NEAR_KEYS_PER_SITE", 2)
    counts = boilerplate.KeyCounts(
        site=np.array([0, 0, 0, 1, 1, 2, 2]),
        key=np.arange(1, 8, dtype=np.uint64),
        documents=np.array([5, 9, 5, 3, 3, 4, 4]),
        first=np.array([0, 1, 2, 3, 0, 5, 6]),
        site_documents=np.array([10, 10, 4]),
    )
    # Site 0 keeps its two most widespread keys (ties: first seen); site 2
    # has fewer documents than min_docs.
    chosen = boilerplate.near_candidates(counts, BoilerplateOptions())
    assert chosen.tolist() == [True, True, False, True, True, False, False]
    exact_only = BoilerplateOptions(near_threshold=None)
    assert not boilerplate.near_candidates(counts, exact_only).any()


def test_share_and_min_docs_guard_content() -> None:
    records = crawl()
    # Footer on 10 of 11 rudaw pages (91%): below a 95% share it stays.
    options = CorpusOptions(workers=1, clean=None, boilerplate=BoilerplateOptions(min_share=0.95))
    with dedupe_corpus(records, options=options, id_field="id") as result:
        out = {r["id"]: r["text"] for r in result}
    assert all(out[f"rudaw-{i}"].endswith("Post a comment") for i in range(10))
    options = CorpusOptions(workers=1, clean=None, boilerplate=BoilerplateOptions(min_docs=11))
    with dedupe_corpus(records, options=options, id_field="id") as result:
        assert len(list(result)) == 12
        assert result.boilerplate == []


def test_site_is_the_host_without_www() -> None:
    assert site_of("https://www.Rudaw.net/english/1?x=2") == "rudaw.net"
    assert site_of("http://news.example.org:8080/a") == "news.example.org"
    assert site_of(None) == ""
    assert site_of("not a url") == ""


# ---- determinism ----


def corpus_file(tmp_path: Path, records: list[dict[str, Any]], name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    lines = "".join(json.dumps(r) + "\n" for r in records)
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(lines.encode(), mtime=0))
    else:
        path.write_text(lines, encoding="utf-8")
    return path


def outputs(out_dir: Path) -> dict[str, bytes]:
    files = sorted(p for p in out_dir.rglob("*") if p.is_file() and p.name != "summary.json")
    return {p.relative_to(out_dir).as_posix(): p.read_bytes() for p in files}


@pytest.mark.slow
def test_same_output_for_one_or_two_workers_and_any_chunking(tmp_path: Path) -> None:
    records = planted()[0] + crawl()
    source = open_source([corpus_file(tmp_path, records)], id_field="id")
    one = write_corpus(source, tmp_path / "one", options=CorpusOptions(workers=1, chunk_size=7))
    two = write_corpus(source, tmp_path / "two", options=CorpusOptions(workers=2, chunk_size=64))
    assert one.workers == 1
    assert two.workers == 2
    assert outputs(tmp_path / "one") == outputs(tmp_path / "two")
    assert one.clusters == 21
    assert one.boilerplate_paragraphs == 6


def test_shuffled_input_gives_the_same_clusters_and_kept_documents() -> None:
    records, expected = planted()
    shuffled = list(records)
    random.Random(1).shuffle(shuffled)
    runs = []
    for order in (records, shuffled):
        options = CorpusOptions(workers=1, chunk_size=13, keep_by="score")
        with dedupe_corpus(order, options=options, id_field="id") as result:
            kept = {r["id"] for r in result}
            members = result.cluster_members()
        runs.append((kept, clusters_of(members), {(m.id, m.kept) for m in members}))
    assert runs[0] == runs[1]
    assert runs[0][1] == expected
    scores = {r["id"]: r["score"] for r in records}
    for member, keeper in runs[0][2]:
        assert scores[keeper] >= scores[member]


def test_keep_longest_keeps_the_longest_of_each_cluster() -> None:
    rng = random.Random(11)
    words = [rng.choice(VOCAB) for _ in range(200)]
    records = [
        {"id": "short", "text": " ".join(words[:190])},
        {"id": "long", "text": " ".join(words)},
    ]
    options = CorpusOptions(workers=1, keep=KeepPolicy.LONGEST)
    with dedupe_corpus(records, options=options, id_field="id") as result:
        assert [r["id"] for r in result] == ["long"]


# ---- inputs ----


@pytest.mark.parametrize("name", ["in.jsonl.gz", "in.jsonl.zst"])
def test_compressed_input_gives_the_same_corpus_compressed_alike(tmp_path: Path, name: str) -> None:
    records = planted()[0][:30] + planted()[0][60:70]
    plain = corpus_file(tmp_path, records)
    if name.endswith(".zst"):
        import zstandard

        packed = tmp_path / name
        packed.write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    else:
        packed = corpus_file(tmp_path, records, name)
    write_corpus(open_source([plain], id_field="id"), tmp_path / "a", options=SERIAL)
    write_corpus(open_source([packed], id_field="id"), tmp_path / "b", options=SERIAL)
    out = tmp_path / "b" / "corpus" / name
    if name.endswith(".gz"):
        data = gzip.decompress(out.read_bytes())
    else:
        import zstandard

        data = zstandard.ZstdDecompressor().stream_reader(out.read_bytes()).read()
    assert data == (tmp_path / "a" / "corpus" / "in.jsonl").read_bytes()
    assert (tmp_path / "a" / "clusters.jsonl").read_bytes() == (
        tmp_path / "b" / "clusters.jsonl"
    ).read_bytes()


def test_records_are_written_back_unchanged_but_for_the_text(tmp_path: Path) -> None:
    text = RUDAW.read_text(encoding="utf-8")
    expected = (ROOT / "samples" / "rudaw-article.expected.txt").read_text(encoding="utf-8")
    record = {"url": "https://www.rudaw.net/a", "text": text, "meta": {"n": 1, "é": [1.5, None]}}
    source = open_source([corpus_file(tmp_path, [record])])
    summary = write_corpus(source, tmp_path / "out", options=SERIAL)
    line = (tmp_path / "out" / "corpus" / "in.jsonl").read_text(encoding="utf-8")
    assert json.loads(line) == {**record, "text": expected}
    assert summary.bytes_removed.clean == len(text.encode()) - len(expected.encode())
    saved = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert saved["documents_in"] == saved["documents_out"] == 1
    assert saved["band_choice"]["bands"] * saved["band_choice"]["rows"] <= 128
    assert {"read", "output", "total"} <= set(saved["timings"])
    assert saved["peak_memory"] > 0


def test_a_directory_of_text_files(tmp_path: Path) -> None:
    records = planted()[0][:3]
    root = tmp_path / "site"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text(records[0]["text"], encoding="utf-8")
    (root / "sub" / "b.txt").write_bytes(records[0]["text"].replace(" ", "\r\n", 3).encode())
    (root / "sub" / "c.txt").write_text(records[1]["text"] + "\r\n", encoding="utf-8")
    (root / "notes.md").write_text("ignored", encoding="utf-8")
    summary = write_corpus(open_source([root]), tmp_path / "out", options=SERIAL)
    assert summary.documents_in == 3
    out = tmp_path / "out" / "corpus"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt")) == [
        "a.txt",
        "sub/c.txt",
    ]
    assert (out / "sub" / "c.txt").read_bytes() == (root / "sub" / "c.txt").read_bytes()
    line = (tmp_path / "out" / "clusters.jsonl").read_text(encoding="utf-8").splitlines()[1]
    assert json.loads(line)["id"] == "sub/b.txt"
    assert json.loads(line)["kept"] == "a.txt"


def test_parquet_in_parquet_out(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    records = planted()[0][:30] + planted()[0][60:70]
    path = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(records), path)
    summary = write_corpus(open_source([path], id_field="id"), tmp_path / "out", options=SERIAL)
    table = pq.read_table(tmp_path / "out" / "corpus" / "in.parquet")
    assert table.schema == pq.read_schema(path)
    assert table.num_rows == summary.documents_out < len(records)
    by_id = {r["id"]: r for r in records}
    for row in table.to_pylist():
        assert row == by_id[row["id"]]


def test_a_one_shot_generator_is_spooled_and_read_again() -> None:
    records, expected = planted()

    def generate() -> Iterator[dict[str, Any]]:
        yield from records

    with dedupe_corpus(generate(), options=SERIAL, id_field="id") as result:
        assert len(list(result)) == len(records) - 40
        assert clusters_of(result.cluster_members()) == expected


# ---- bad records ----


def bad_file(tmp_path: Path) -> Path:
    good = [json.dumps({"text": f"document number {i} " * 20}) for i in range(4)]
    lines = [good[0], good[1], "{not json", json.dumps({"body": "x"}), "", good[2]]
    lines += [json.dumps({"text": 5}), "[1, 2]", good[3]]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_bad_record_stops_the_run_with_file_and_line(tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    with pytest.raises(InputError, match=r"in\.jsonl:3: invalid JSON"):
        write_corpus(open_source([path]), tmp_path / "out", options=SERIAL)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]


def test_bad_records_are_skipped_and_counted(tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    options = CorpusOptions(workers=1, on_error=OnError.SKIP)
    summary = write_corpus(open_source([path]), tmp_path / "out", options=options)
    assert summary.bad_records == 4
    assert summary.documents_in == summary.documents_out == 4
    assert [m.split(": ")[0].rsplit("/", 1)[-1] for m in summary.bad_record_examples] == [
        "in.jsonl:3",
        "in.jsonl:4",
        "in.jsonl:7",
        "in.jsonl:8",
    ]
    assert "no 'text' field" in summary.bad_record_examples[1]
    assert "is int, not a string" in summary.bad_record_examples[2]
    ids = [
        json.loads(line)["text"].split()[2]
        for line in (tmp_path / "out" / "corpus" / "in.jsonl").read_text().splitlines()
    ]
    assert ids == ["0", "1", "2", "3"]


def test_unchanged_records_are_copied_byte_for_byte(tmp_path: Path) -> None:
    last = {"id": "last", "text": "the last record, kept, and its line ends the file"}
    records = [*planted()[0], last]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    # CRLF, a blank line, a bad record, and a last line without a terminator.
    lines[3] += "\r"
    lines[5:5] = ["", "{not json"]
    data = "\n".join(lines).encode("utf-8")
    plain, packed = tmp_path / "in.jsonl", tmp_path / "in.jsonl.gz"
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    options = CorpusOptions(
        workers=1, boilerplate=None, clean=None, chunk_size=16, on_error=OnError.SKIP
    )
    for path in (plain, packed):
        with dedupe_corpus(open_source([path], id_field="id"), options=options) as result:
            kept_ids = [r["id"] for r in result]
        out = tmp_path / f"out-{path.name}"
        write_corpus(open_source([path], id_field="id"), out, options=options)
        by_id = {json.loads(line)["id"]: line for line in lines if line.startswith('{"')}
        expected = "".join(by_id[i] + "\n" for i in kept_ids).encode("utf-8")
        assert len(kept_ids) < len(records)
        assert kept_ids[-1] == "last"
        written = out / "corpus" / path.name
        raw = written.read_bytes()
        assert (gzip.decompress(raw) if path is packed else raw) == expected


@pytest.mark.parametrize("kernel_copy", [True, False])
def test_byte_ranges_copy_with_or_without_the_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel_copy: bool
) -> None:
    if not kernel_copy:
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    data = bytes(range(256)) * 5000
    (tmp_path / "in").write_bytes(data)
    with (tmp_path / "in").open("rb") as src, (tmp_path / "out").open("wb") as dst:
        for start, end in [(0, 10), (300, 1_100_000), (1_200_000, 1_280_000)]:
            _copy_range(src.fileno(), dst.fileno(), start, end)
    assert (tmp_path / "out").read_bytes() == data[:10] + data[300:1_100_000] + data[1_200_000:]


# ---- atomic output ----


@dataclass(frozen=True)
class Watched:
    """A partition whose every reading is told to its source first."""

    inner: Partition
    counter: Watching

    @property
    def source(self) -> int:
        return self.inner.source

    @property
    def holds_data(self) -> bool:
        return self.inner.holds_data

    def items(self) -> Iterator[tuple[int, Item]]:
        self.counter.readings += 1
        self.counter.on_reading(self.counter.readings)
        return self.inner.items()

    def only(self, positions: Sequence[int]) -> Watched:
        return Watched(self.inner.only(positions), self.counter)


class Watching:
    """A JSON Lines source that calls ``on_reading(n)`` before the n-th
    reading of any of its partitions (serial runs only)."""

    def __init__(self, source: JsonlSource, on_reading: Callable[[int], None]) -> None:
        self.inner = source
        self.format = source.format
        self.text_field = source.text_field
        self.names = source.names
        self.paths = source.paths
        self.readings = 0
        self.on_reading = on_reading

    def __iter__(self) -> Iterator[Item]:
        raise AssertionError("a corpus run reads partitions")

    def partitions(self, size: int) -> Iterator[Watched]:
        for partition in self.inner.partitions(size):
            yield Watched(partition, self)


def interrupt_at(trip: int) -> Callable[[int], None]:
    """Raise KeyboardInterrupt (as Ctrl-C would) on the ``trip``-th reading."""

    def on_reading(n: int) -> None:
        if n == trip:
            raise KeyboardInterrupt

    return on_reading


def test_an_interrupted_run_leaves_no_output_that_looks_complete(tmp_path: Path) -> None:
    records = planted()[0]
    source = open_source([corpus_file(tmp_path, records)], id_field="id")
    assert isinstance(source, JsonlSource)
    options = CorpusOptions(workers=1, chunk_size=16)
    counted = Watching(source, interrupt_at(0))
    write_corpus(counted, tmp_path / "out", options=options)
    before = outputs(tmp_path / "out")
    # The last reading is the last partition of the output pass, after the
    # other partitions' output has been written.
    assert counted.readings > 2 * len(list(source.partitions(16)))
    with pytest.raises(KeyboardInterrupt):
        write_corpus(
            Watching(source, interrupt_at(counted.readings)), tmp_path / "new", options=options
        )
    with pytest.raises(KeyboardInterrupt):
        write_corpus(
            Watching(source, interrupt_at(counted.readings)),
            tmp_path / "out",
            options=options,
            overwrite=True,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out"]
    assert outputs(tmp_path / "out") == before
    with pytest.raises(OutputError, match="already exists"):
        write_corpus(source, tmp_path / "out", options=SERIAL)


# ---- adversarial input ----


@pytest.mark.slow
def test_twenty_thousand_identical_documents_make_a_linear_number_of_pairs() -> None:
    n = 20_000
    records = [{"text": "the same short document, again and again and again"}] * n
    records.append({"text": "one different document with words of its own, unlike the rest"})
    options = CorpusOptions(workers=1, chunk_size=2048, boilerplate=None, clean=None)
    with dedupe_corpus(records, options=options) as result:
        out = list(result)
        summary = result.summary
    assert summary.candidate_pairs == n - 1
    assert summary.verified_pairs == n - 1
    assert [r["text"] for r in out] == [records[0]["text"], records[-1]["text"]]
    assert summary.clusters == 1
    assert summary.duplicates == n - 1


# ---- command line ----


def test_cli_writes_the_corpus_and_prints_the_band_choice(tmp_path: Path) -> None:
    path = corpus_file(tmp_path, planted()[0])
    result = CliRunner().invoke(
        corpus,
        [str(path), "-o", str(tmp_path / "out"), "--id-field", "id", "--workers", "1"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "LSH: " in result.stderr
    assert "bands x" in result.stderr
    assert "near-duplicates dropped" in result.stderr
    lines = (tmp_path / "out" / "corpus" / "in.jsonl").read_text().splitlines()
    assert len(lines) == 80
    assert len((tmp_path / "out" / "clusters.jsonl").read_text().splitlines()) == 60


def test_cli_stages_can_be_turned_off(tmp_path: Path) -> None:
    path = corpus_file(tmp_path, planted()[0])
    args = [str(path), "-o", str(tmp_path / "out"), "--workers", "1", "-q"]
    result = CliRunner().invoke(
        corpus, [*args, "--no-near-dups", "--no-boilerplate", "--no-clean"], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert result.stderr == ""
    written = (tmp_path / "out" / "corpus" / "in.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in written] == planted()[0]
    assert (tmp_path / "out" / "clusters.jsonl").read_text() == ""


def test_cli_bad_record_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    result = CliRunner().invoke(
        corpus, [str(path), "-o", str(tmp_path / "out"), "--workers", "1"], catch_exceptions=False
    )
    assert result.exit_code == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("dedupe: error: ")
    assert "in.jsonl:3: invalid JSON" in last
    assert not (tmp_path / "out").exists()
    skipped = CliRunner().invoke(
        corpus,
        [str(path), "-o", str(tmp_path / "out"), "--workers", "1", "--on-error", "skip"],
        catch_exceptions=False,
    )
    assert skipped.exit_code == 0
    assert "bad records skipped" in skipped.stderr


def test_corpus_is_a_dedupe_command(tmp_path: Path) -> None:
    from dedupe.cli.main import main

    missing = tmp_path / "missing.jsonl"
    result = CliRunner().invoke(main, ["corpus", str(missing), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr == f"dedupe: error: {missing}: no such file or directory\n"
    assert "corpus" in CliRunner().invoke(main, ["--help"]).output


def test_band_keys_spill_under_the_tmp_dir_and_are_removed(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    spill.mkdir()
    source = open_source([corpus_file(tmp_path, planted()[0])], id_field="id")
    assert isinstance(source, JsonlSource)
    seen: list[str] = []
    partitions = len(list(source.partitions(256)))

    def listing(n: int) -> None:
        # The first reading after the read pass: every spill file is written.
        if n == partitions + 1:
            seen.extend(sorted(p.name for p in spill.rglob("*") if p.is_file()))

    options = CorpusOptions(workers=1, tmp_dir=spill)
    write_corpus(Watching(source, listing), tmp_path / "out", options=options)
    bands = NearDupOptions().band_choice().bands
    assert [n for n in seen if n.startswith("band-")] == [f"band-{b:03d}.u64" for b in range(bands)]
    assert "paragraph-keys.u64" in seen
    assert list(spill.iterdir()) == []


def test_keep_by_needs_numbers(tmp_path: Path) -> None:
    records = [{"text": "a text of some words here", "score": 1}, {"text": "b", "score": "high"}]
    path = corpus_file(tmp_path, records)
    with pytest.raises(InputError, match=r"in\.jsonl:2: field 'score' is not a number"):
        write_corpus(
            open_source([path]), tmp_path / "out", options=CorpusOptions(workers=1, keep_by="score")
        )
    result = CliRunner().invoke(
        corpus, [str(path), "-o", str(tmp_path / "out"), "--keep-by", "score", "--keep", "longest"]
    )
    assert result.exit_code == 2
    assert "either a keep policy or a keep-by field" in result.stderr


def test_batch_shingles_equal_the_one_text_path() -> None:
    with gzip.open(PAGES, "rt", encoding="utf-8") as file:
        texts = [json.loads(line)["page_text"] for line in file][:60]
    texts += ["", "a", "a b c", "東京都の天気は晴れ", "Hello, World!"]
    for text in texts:
        assert frozenset(document_shingles(text, NGRAM).tolist()) == shingles(text)


def test_skipped_keep_by_values_keep_the_numbering(tmp_path: Path) -> None:
    rng = random.Random(5)
    words = [rng.choice(VOCAB) for _ in range(200)]
    records = [
        {"id": "a", "text": " ".join(words), "score": 0},
        {"id": "bad", "text": "x " * 50, "score": "high"},
        {"id": "b", "text": " ".join(edit(words, rng, 1)), "score": 2},
        {"id": "c", "text": " ".join(words[:150]), "score": None},
    ]
    options = CorpusOptions(workers=1, keep_by="score", on_error=OnError.SKIP)
    with dedupe_corpus(records, options=options, id_field="id") as result:
        kept = [r["id"] for r in result]
        members = {(m.id, m.kept) for m in result.cluster_members()}
        assert result.summary.bad_records == 1
    assert kept == ["b", "c"]
    assert members == {("a", "b"), ("b", "b")}


def test_the_output_directory_has_ordinary_permissions(tmp_path: Path) -> None:
    path = corpus_file(tmp_path, planted()[0][:5])
    write_corpus(open_source([path]), tmp_path / "out", options=SERIAL)
    (tmp_path / "ref").mkdir()  # what the umask gives a new directory
    mode = (tmp_path / "out").stat().st_mode & 0o777
    assert mode == (tmp_path / "ref").stat().st_mode & 0o777


def test_records_held_in_memory_are_written_as_json_lines(tmp_path: Path) -> None:
    records, _ = planted()
    summary = write_corpus(RecordsSource(records, id_field="id"), tmp_path / "out", options=SERIAL)
    lines = (tmp_path / "out" / "corpus" / "records.jsonl").read_text().splitlines()
    assert len(lines) == summary.documents_out == len(records) - 40
    assert json.loads(lines[0]) == records[0]


def test_a_kept_document_two_edges_from_a_similar_kept_one_joins_it() -> None:
    # Star edges link 2 and 3 only through 1; 3 is like 2 (0.9) but nobody measured it.
    pairs = np.array([[0, 1], [1, 2], [1, 3]], dtype=np.int64)
    sims = np.array([0.9, 0.85, 0.85])
    exact_sims = {(0, 2): 0.5, (0, 3): 0.5, (2, 3): 0.9}
    asked: list[tuple[int, int]] = []

    def measure(more: np.ndarray) -> np.ndarray:
        asked.extend((int(i), int(j)) for i, j in more)
        return np.array([exact_sims[(int(i), int(j))] for i, j in more])

    clusters = resolve_clusters(pairs, sims, np.arange(4), threshold=0.8, measure=measure)
    assert clusters.kept.tolist() == [0, 0, 2, 2]
    assert clusters.similarity.tolist() == [1.0, 0.9, 1.0, 0.9]
    assert sorted(asked) == [(0, 2), (0, 3), (2, 3)]


def test_the_band_choice_is_one_line(tmp_path: Path) -> None:
    path = corpus_file(tmp_path, planted()[0][:10])
    args = [str(path), "-o", str(tmp_path / "out"), "--workers", "1"]
    result = CliRunner().invoke(corpus, args, catch_exceptions=False)
    line = result.stderr.splitlines()[0]
    assert line.startswith("LSH: ")
    assert line.endswith(")")


def test_jsonl_records_keep_every_byte_but_the_text(tmp_path: Path) -> None:
    """Other fields keep their spelling: number formats, escapes, key order, spacing."""
    body = "The council met again on Monday to discuss the budget for the new school year."
    first = '{"n": 1.0e3, "text": "%s", "tag": "caf\\u00e9", "x": [1,  2]}\n'
    second = '{ "text" : "A different document\\nabout something else." ,"n":7}\n'
    source = tmp_path / "in.jsonl"
    # The first record's text holds its paragraph twice: the copy is cleaned away.
    source.write_text(first % f"{body}\\n{body}" + second, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        corpus,
        [str(source), "-o", str(out), "--workers", "1", "-q"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    written = (out / "corpus" / "in.jsonl").read_text(encoding="utf-8")
    assert written == first % body + second


def test_documents_are_not_kept_by_article_form(tmp_path: Path) -> None:
    with pytest.raises(OptionsError, match="first or longest"):
        CorpusOptions(keep=KeepPolicy.ARTICLE)
    data = tmp_path / "in.jsonl"
    data.write_text('{"text": "one"}\n', encoding="utf-8")
    result = CliRunner().invoke(corpus, [str(data), "-o", str(tmp_path / "o"), "--keep", "article"])
    assert result.exit_code == 2
    assert "article" in result.output
