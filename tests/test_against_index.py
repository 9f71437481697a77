"""``dedupe corpus --against INDEX [--add]``: a new crawl deduplicated against
what a real SQLite NearDuplicateIndex already holds, and against itself."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from dedupe.cli.corpus import corpus
from dedupe.index import NearDuplicateIndex

RNG = random.Random(21)
VOCAB = [f"w{n}" for n in range(3000)]


def doc() -> list[str]:
    return [RNG.choice(VOCAB) for _ in range(200)]


def near(words: list[str]) -> str:
    out = list(words)
    out[60], out[140] = "edited", "changed"
    return " ".join(out)


A, B, C, D = doc(), doc(), doc(), doc()


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(corpus, [*args, "-q", "--workers", "1"])
    return result.exit_code, result.output


def kept_ids(out: Path) -> list[str]:
    lines = (out / "corpus" / "new.jsonl").read_text().splitlines()
    return [json.loads(line)["id"] for line in lines]


def test_a_new_crawl_against_last_weeks_index(tmp_path: Path) -> None:
    seen = tmp_path / "seen.db"
    index = NearDuplicateIndex(seen)
    index.add("old-a", " ".join(A), site="one.example")
    index.add("old-b", " ".join(B), site="one.example")
    index.close()
    new = tmp_path / "new.jsonl"
    rows = [
        {"id": "a2", "url": "http://one.example/a2", "text": near(A)},
        {"id": "c", "url": "http://one.example/c", "text": " ".join(C)},
        {"id": "c2", "url": "http://one.example/c2", "text": near(C)},
        {"id": "d", "url": "http://two.example/d", "text": " ".join(D)},
    ]
    write_jsonl(new, rows)
    args = ["--id-field", "id", "--against", str(seen)]
    code, output = run(str(new), "-o", str(tmp_path / "out"), *args, "--add")
    assert code == 0, output
    out = tmp_path / "out"
    # a2 is in the index already; c2 duplicates c of the same crawl.
    assert kept_ids(out) == ["c", "d"]
    indexed = [json.loads(line) for line in (out / "indexed.jsonl").read_text().splitlines()]
    assert [(r["id"], r["indexed_id"]) for r in indexed] == [("a2", "old-a")]
    assert 0.8 <= indexed[0]["similarity"] < 1.0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["indexed_duplicates"] == 1
    assert summary["duplicates"] == 1
    assert summary["added_to_index"] == 2
    index = NearDuplicateIndex.existing(seen)
    assert "c" in index
    assert "d" in index
    assert "c2" not in index
    assert "a2" not in index
    index.close()

    # Next week, the same crawl again: everything is known.
    code, output = run(str(new), "-o", str(tmp_path / "again"), *args)
    assert code == 0, output
    assert kept_ids(tmp_path / "again") == []
    indexed = (tmp_path / "again" / "indexed.jsonl").read_text().splitlines()
    assert [json.loads(line)["indexed_id"] for line in indexed] == ["old-a", "c", "c", "d"]


def test_without_add_the_index_must_exist_and_is_not_changed(tmp_path: Path) -> None:
    new = tmp_path / "new.jsonl"
    write_jsonl(new, [{"text": " ".join(C)}])
    code, output = run(str(new), "-o", str(tmp_path / "out"), "--against", str(tmp_path / "no.db"))
    assert code == 2
    assert len(output.strip().splitlines()) == 1, output
    assert not (tmp_path / "out").exists()
    code, output = run(str(new), "-o", str(tmp_path / "out"), "--add")
    assert code == 2
    assert "--add needs --against" in output


def test_add_creates_a_missing_index(tmp_path: Path) -> None:
    new = tmp_path / "new.jsonl"
    write_jsonl(new, [{"id": "c", "text": " ".join(C)}, {"id": "d", "text": " ".join(D)}])
    seen = tmp_path / "seen.db"
    args = ["--id-field", "id", "--against", str(seen), "--add"]
    code, output = run(str(new), "-o", str(tmp_path / "out"), *args)
    assert code == 0, output
    index = NearDuplicateIndex.existing(seen)
    assert index.stats().documents == 2
    index.close()


def test_an_output_holding_the_index_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    seen = out / "seen.db"
    index = NearDuplicateIndex(seen)
    index.add("old-a", " ".join(A), site="one.example")
    index.close()
    before = seen.read_bytes()
    new = tmp_path / "new.jsonl"
    write_jsonl(new, [{"id": "c", "url": "http://one.example/c", "text": " ".join(C)}])
    code, output = run(str(new), "-o", str(out), "--overwrite", "--against", str(seen), "--add")
    assert code == 2, output
    assert "holds the index" in output
    assert seen.read_bytes() == before
