"""Corpus inputs and their partitions: every way of cutting a source reads
the same items, ``only`` picks exactly the positions asked for, and a
partition read in another process (after pickling) reads the same."""

from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import pytest

from dedupe.errors import InputError
from dedupe.io.sources import (
    BadRecord,
    Item,
    LineRange,
    Partition,
    Record,
    RecordsSource,
    Source,
    open_source,
    records_of,
)

LINES = [
    json.dumps({"id": "a", "text": "first text"}),
    "",
    json.dumps({"id": "b", "text": "ça marche, with a \u2028 separator"}),
    "{not json",
    json.dumps({"id": "c", "text": "crlf line"}) + "\r",
    json.dumps({"id": "d", "text": 7}),
    "   ",
    json.dumps({"id": "e", "text": "no newline at the end"}),
]


def jsonl(tmp_path: Path) -> tuple[Path, Path]:
    data = "\n".join(LINES).encode("utf-8")
    plain, packed = tmp_path / "in.jsonl", tmp_path / "in.jsonl.gz"
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    return plain, packed


def described(item: Item) -> tuple[str, ...]:
    if isinstance(item, BadRecord):
        return ("bad", item.where.rsplit("/", 1)[-1], item.reason)
    return ("record", item.id.rsplit("/", 1)[-1], item.text, item.line or "", str(item.source))


def read_all(partitions: list[Partition]) -> list[tuple[str, ...]]:
    return [described(item) for partition in partitions for _, item in partition.items()]


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_plain_and_compressed_files_cut_alike_read_the_same(tmp_path: Path, size: int) -> None:
    plain, packed = jsonl(tmp_path)
    sources = [open_source([p], id_field=None) for p in (plain, packed)]
    ranges, blocks = (list(s.partitions(size)) for s in sources)
    assert all(isinstance(p, LineRange) and not p.holds_data for p in ranges)
    assert all(p.holds_data for p in blocks)
    got = read_all(ranges)
    assert got == [(d[0], d[1].replace(".gz", ""), *d[2:]) for d in read_all(blocks)]
    # Blank lines are skipped; ids are file:line; every other line is an item.
    assert [d[1] for d in got] == [
        "in.jsonl:1",
        "in.jsonl:3",
        "in.jsonl:4",
        "in.jsonl:5",
        "in.jsonl:6",
        "in.jsonl:8",
    ]
    assert got[1][3] == LINES[2] + "\n"
    assert got[3][3] == LINES[4] + "\n"
    assert got[-1][3] == LINES[-1]
    assert [d[0] for d in got] == ["record", "record", "bad", "record", "bad", "record"]
    # Iterating a source reads what its partitions read.
    assert [described(i) for i in sources[0]] == got


def every_kind(tmp_path: Path) -> list[Source]:
    plain, packed = jsonl(tmp_path)
    texts = tmp_path / "texts"
    for name in ("b/2.txt", "a.txt", "c.txt", "b/1.txt"):
        (texts / name).parent.mkdir(parents=True, exist_ok=True)
        (texts / name).write_text(f"text of {name}", encoding="utf-8")
    (texts / "bad.txt").write_bytes(b"\xff\xfe")
    records = [{"text": f"record {i}", "n": i} for i in range(7)] + [{"nothing": 1}]
    sources = [
        open_source([plain]),
        open_source([packed]),
        open_source([texts]),
        RecordsSource(records),
    ]
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist(records[:7]), tmp_path / "in.parquet")
    return [*sources, open_source([tmp_path / "in.parquet"])]


def test_only_reads_just_the_positions_asked_for(tmp_path: Path) -> None:
    for source in every_kind(tmp_path):
        for partition in source.partitions(3):
            items = list(partition.items())
            positions = [p for p, _ in items]
            for chosen in (positions[::2], positions[1:], positions[-1:], []):
                narrowed = partition.only(chosen)
                assert [(p, described(i)) for p, i in narrowed.items()] == [
                    (p, described(i)) for p, i in items if p in chosen
                ]


def test_partitions_read_alike_after_pickling(tmp_path: Path) -> None:
    for source in every_kind(tmp_path):
        partitions = list(source.partitions(2))
        assert partitions, source
        copies = [pickle.loads(pickle.dumps(p)) for p in partitions]
        assert read_all(copies) == read_all(partitions)
        assert read_all(partitions) == [described(i) for i in source]


def test_a_file_that_changed_since_it_was_cut_is_an_input_error(tmp_path: Path) -> None:
    plain, _ = jsonl(tmp_path)
    partitions = list(open_source([plain]).partitions(2))
    plain.write_bytes(plain.read_bytes()[:20])
    with pytest.raises(InputError, match="the file changed while it was being read"):
        list(partitions[-1].items())
    plain.unlink()
    with pytest.raises(InputError, match=r"in\.jsonl: cannot read: No such file"):
        list(partitions[0].items())


def test_records_of_refuses_a_position_that_is_no_longer_a_record(tmp_path: Path) -> None:
    plain, _ = jsonl(tmp_path)
    first = next(iter(open_source([plain]).partitions(100)))
    assert [r.id.rsplit("/", 1)[-1] for r in records_of(first.only([0, 2]))] == [
        "in.jsonl:1",
        "in.jsonl:3",
    ]
    assert all(isinstance(r, Record) for r in records_of(first.only([0, 2])))
    with pytest.raises(InputError, match=r"in\.jsonl:4: the input changed"):
        records_of(first.only([3]))
