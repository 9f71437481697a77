"""Near-duplicate rows of a Hugging Face Dataset and of pandas and polars
DataFrames, built in the test (no hub downloads)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import dedupe
from dedupe.cleaning.groups import KeepPolicy
from dedupe.corpus.pipeline import CorpusOptions, dedupe_corpus
from dedupe.errors import InputError

RNG = random.Random(7)
VOCAB = [f"w{n}" for n in range(3000)]


def texts() -> list[str]:
    """12 rows: row 3 is a near copy of row 0, row 7 of row 2, row 9 of row 7
    (so of row 2 too), row 11 an exact copy of row 5."""
    base = [[RNG.choice(VOCAB) for _ in range(200)] for _ in range(12)]

    def near(words: list[str], k: int) -> list[str]:
        out = list(words)
        out[40 + k] = out[160 - k] = "edited"
        return out

    base[3] = near(base[0], 0)
    base[7] = near(base[2], 1)
    base[9] = near(base[2], 2)
    base[11] = list(base[5])
    return [" ".join(w) for w in base]


TEXTS = texts()
EXPECTED = [0, 1, 2, 0, 4, 5, 6, 2, 8, 2, 10, 5]


def oracle(rows: list[str]) -> list[int]:
    """The clusters the corpus pipeline gives for the same texts as records."""
    options = CorpusOptions(boilerplate=None, clean=None, workers=1)
    with dedupe_corpus([{"text": t} for t in rows], options=options) as result:
        clusters = list(range(len(rows)))
        for doc, kept in zip(result.clusters.documents, result.clusters.kept, strict=True):
            clusters[int(doc)] = int(kept)
    return clusters


def test_the_planted_clusters_are_what_the_corpus_run_finds() -> None:
    assert oracle(TEXTS) == EXPECTED


def check(result: dedupe.Deduplicated[Any], kept_texts: list[str]) -> None:
    assert result.clusters.tolist() == EXPECTED
    assert result.duplicates == 4
    assert kept_texts == [TEXTS[k] for k in sorted(set(EXPECTED))]
    assert result.similarity[[0, 1, 2, 4, 5]].tolist() == [1.0] * 5
    assert result.similarity[11] == 1.0  # an exact copy
    assert 0.8 <= result.similarity[3] < 1.0


def test_dataset_kept_rows_and_a_cluster_column() -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"text": TEXTS, "n": list(range(12))})
    result = dedupe.dedupe_dataset(ds, column="text")
    assert isinstance(result.kept, datasets.Dataset)
    check(result, result.kept["text"])
    assert result.kept["n"] == [0, 1, 2, 4, 5, 6, 8, 10]
    assert result.labelled["cluster"] == EXPECTED
    assert result.labelled["n"] == list(range(12))


def test_dataset_saved_to_disk_and_read_back(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_dict({"body": TEXTS}).save_to_disk(str(tmp_path / "ds"))
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    result = dedupe.dedupe_dataset(ds, column="body", workers=2)
    check(result, result.kept["body"])


def test_a_shuffled_dataset_is_read_in_its_shown_order() -> None:
    datasets = pytest.importorskip("datasets")
    order = list(range(12))[::-1]
    ds = datasets.Dataset.from_dict({"text": [TEXTS[k] for k in order]}).shuffle(seed=3)
    shown = ds["text"]
    result = dedupe.dedupe_dataset(ds)
    assert result.clusters.tolist() == oracle(shown)


def test_dataset_without_the_column_or_with_nulls_is_one_clear_error() -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"body": TEXTS})
    with pytest.raises(InputError, match=r"no column 'text' \(the columns are: body\)"):
        dedupe.dedupe_dataset(ds)
    with pytest.raises(InputError, match="row 1: column 'text' is empty"):
        dedupe.dedupe_dataset(datasets.Dataset.from_dict({"text": ["a", None]}))


def test_pandas_frame() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"text": TEXTS, "n": range(12)}, index=[f"r{k}" for k in range(12)])
    result = dedupe.dedupe_frame(frame, column="text", keep=KeepPolicy.FIRST)
    check(result, list(result.kept["text"]))
    assert list(result.kept.index) == [f"r{k}" for k in sorted(set(EXPECTED))]
    assert list(result.labelled["cluster"]) == EXPECTED
    with pytest.raises(InputError, match="'text'"):
        dedupe.dedupe_frame(pd.DataFrame({"text": [1, 2]}))


def test_polars_frame() -> None:
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"text": TEXTS, "n": list(range(12))})
    result = dedupe.dedupe_frame(frame, column="text")
    assert isinstance(result.kept, pl.DataFrame)
    check(result, result.kept["text"].to_list())
    assert result.labelled["cluster"].to_list() == EXPECTED
    with pytest.raises(InputError, match="no column 'body'"):
        dedupe.dedupe_frame(frame, column="body")


def test_the_wrong_kind_of_table_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="pandas or polars"):
        dedupe.dedupe_frame([{"text": "a"}])
    pytest.importorskip("datasets")
    with pytest.raises(TypeError, match=r"datasets\.Dataset"):
        dedupe.dedupe_dataset({"text": ["a"]})


def test_the_new_names_are_exported() -> None:
    for name in ("Deduplicated", "dedupe_dataset", "dedupe_frame"):
        assert name in dedupe.__all__
    assert dedupe.__all__ == sorted(dedupe.__all__)
