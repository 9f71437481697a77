"""dedupe corpus on Dask: the same output as the local run, on a LocalCluster
of two worker processes; components on the cluster; a worker killed mid-run;
the CLI flags."""

from __future__ import annotations

import gzip
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip(
    "distributed", reason="dask[distributed] is not installed (pip install 'dedupe-text[dask]')"
)
import dask.dataframe as dd
import pandas as pd
from distributed import Client, Future, LocalCluster

from dedupe.cleaning.groups import KeepPolicy
from dedupe.cli.corpus import corpus
from dedupe.corpus.clusters import connected_components
from dedupe.corpus.dask import (
    DaskExecutor,
    _shingle_frame,
    dask_executor,
    local_cluster,
    local_worker_count,
)
from dedupe.corpus.engines import large_star, neighbourhoods, small_star, star_violations
from dedupe.corpus.executors import available_cores
from dedupe.corpus.pipeline import CorpusOptions, dedupe_corpus, write_corpus
from dedupe.errors import InputError
from dedupe.io.sources import open_source
from tests.test_corpus import VOCAB, corpus_file, crawl, edit, outputs, planted


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    # Scratch space of its own, removed after the cluster: Dask's default
    # leaves dask-scratch-space/ in the system temp dir.
    with (
        tempfile.TemporaryDirectory(prefix="dedupe-test-dask-") as scratch,
        local_cluster(2, local_directory=scratch) as started,
    ):
        yield started


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster, set_as_default=False) as connected:
        yield connected


def chains(seed: int = 2, links: int = 12) -> list[dict[str, Any]]:
    """Three chains of documents, each two words from the one before (so the
    first and last of a chain are far apart), with unrelated documents and
    the chains interleaved out of order."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for c in range(3):
        words = [rng.choice(VOCAB) for _ in range(300)]
        for link in range(links):
            records.append({"id": f"c{c}-{link}", "text": " ".join(words), "score": rng.random()})
            words = edit(words, rng, 2)
    records += [
        {"id": f"u{i}", "text": " ".join(rng.choice(VOCAB) for _ in range(120)), "score": 0.5}
        for i in range(20)
    ]
    rng.shuffle(records)
    return records


CORPORA: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "planted": lambda: planted()[0],
    "crawl": crawl,
    "chains": chains,
}


def run(
    records: list[dict[str, Any]], options: CorpusOptions, executor: DaskExecutor | None = None
) -> dict[str, Any]:
    with dedupe_corpus(records, options=options, id_field="id", executor=executor) as result:
        out = list(result)
        summary = result.summary
        return {
            "records": out,
            "members": result.cluster_members(),
            "documents": result.clusters.documents.tolist(),
            "kept": result.clusters.kept.tolist(),
            "cluster": result.clusters.cluster.tolist(),
            "similarity": result.clusters.similarity.tolist(),
            "edges": result.edges.tolist(),
            "edge_similarity": result.edge_similarity.tolist(),
            "boilerplate": result.boilerplate,
            "counts": (
                summary.documents_out,
                summary.clusters,
                summary.duplicates,
                summary.candidate_pairs,
                summary.verified_pairs,
                summary.bytes_removed,
            ),
        }


OPTIONS = {
    "longest-chunks-of-7": CorpusOptions(workers=1, keep=KeepPolicy.LONGEST, chunk_size=7),
    "keep-by-score": CorpusOptions(workers=1, keep_by="score"),
}


# Keep first, on every corpus, is in the output-file test below.
@pytest.mark.parametrize(
    ("name", "how"),
    [
        pytest.param("chains", "longest-chunks-of-7", marks=pytest.mark.slow),
        ("planted", "keep-by-score"),
    ],
)
def test_the_cluster_finds_what_the_local_run_finds(client: Client, name: str, how: str) -> None:
    records = CORPORA[name]()
    local = run(records, OPTIONS[how])
    # Three partitions per shuffle on two workers: buckets and components cross workers.
    remote = run(records, OPTIONS[how], DaskExecutor(client, partitions=3, band_rows=40))
    assert remote == local
    assert local["members"]


@pytest.mark.slow
def test_same_output_files_as_the_local_pool(client: Client, tmp_path: Path) -> None:
    records = planted()[0] + crawl() + chains()
    source = open_source([corpus_file(tmp_path, records)], id_field="id")
    pool = write_corpus(source, tmp_path / "pool", options=CorpusOptions(workers=2))
    executor = DaskExecutor(client)
    dask = write_corpus(source, tmp_path / "dask", options=CorpusOptions(), executor=executor)
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "pool")
    assert dask.workers == 2
    assert (dask.documents_out, dask.clusters, dask.verified_pairs) == (
        pool.documents_out,
        pool.clusters,
        pool.verified_pairs,
    )
    peaks = executor.peak_worker_memory()
    assert set(peaks) == set(client.nthreads())
    assert all(peak > 0 for peak in peaks.values())
    assert 0 < dask.peak_worker_memory <= max(executor.peak_worker_memory().values())


@pytest.mark.slow
def test_a_bucket_of_a_thousand_identical_documents(client: Client) -> None:
    records = [{"id": str(i), "text": "the same words in every one of them"} for i in range(1000)]
    records.insert(700, {"id": "other", "text": "a different text of some other words"})
    result = run(records, CorpusOptions(workers=1, chunk_size=500), DaskExecutor(client))
    assert [r["id"] for r in result["records"]] == ["0", "other"]
    # Star edges: one pair per document, not half a million.
    assert result["counts"][3] == 999


def star_rounds(edges: np.ndarray) -> np.ndarray:
    """Large-star and small-star rounds on one partition, until a star forest."""
    pairs = edges
    while True:
        u, v = neighbourhoods(
            np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]])
        )
        if not star_violations(u, v):
            return np.unique(np.stack([v, u], axis=1)[u > v], axis=0)
        large = large_star(u, v)
        pairs = small_star(large[:, 0], large[:, 1])


def test_large_and_small_star_rounds_end_in_the_components() -> None:
    rng = np.random.default_rng(5)
    n = 400
    for count in (0, 50, 300, 600):
        edges = rng.integers(0, n, size=(count, 2)).astype(np.int64)
        edges = np.concatenate([edges, [[i, i + 1] for i in range(100, 160)]]).astype(np.int64)
        stars = star_rounds(edges)
        labels = np.arange(n)
        labels[stars[:, 1]] = stars[:, 0]
        assert labels.tolist() == connected_components(edges, n).tolist()


@pytest.mark.slow
def test_components_on_the_cluster_equal_the_local_ones(client: Client) -> None:
    # A CI guard for the query planner too: shuffles, drop-duplicates and
    # merges chained over several rounds.
    rng = np.random.default_rng(9)
    n = 1000
    edges = rng.integers(0, n, size=(800, 2)).astype(np.int64)
    edges = np.concatenate([edges, [[i, i + 1] for i in range(0, 60)]]).astype(np.int64)
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    edges = edges[edges[:, 0] != edges[:, 1]]
    frame = dd.from_pandas(pd.DataFrame({"a": edges[:, 0], "b": edges[:, 1]}), npartitions=5)
    executor = DaskExecutor(client, partitions=4)
    labels = client.compute(executor._components(frame)).result()
    expected = connected_components(edges, n)
    got = np.arange(n)
    got[labels["doc"].to_numpy()] = labels["comp"].to_numpy()
    assert got.tolist() == expected.tolist()
    assert len(labels) == len(np.unique(edges))


class KillOnce(DaskExecutor):
    """Shingle tasks kill their worker process the first time one runs."""

    def __init__(self, client: Client, marker: Path) -> None:
        super().__init__(client)
        self.marker = marker

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        if fn is _shingle_frame:
            return super().submit(die_once, str(self.marker), fn, *args)
        return super().submit(fn, *args)


def die_once(marker: str, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return fn(*args)
    os._exit(1)  # the worker process dies; its nanny starts a new one


@pytest.mark.slow
def test_a_worker_killed_mid_run_changes_nothing(tmp_path: Path) -> None:
    records = chains()
    local = run(records, CorpusOptions(workers=1))
    marker = tmp_path / "killed"
    with (
        local_cluster(2, local_directory=tmp_path / "scratch") as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        remote = run(records, CorpusOptions(workers=1, chunk_size=16), KillOnce(client, marker))
    assert marker.exists()
    assert remote == local


def test_cli_on_a_scheduler_address_writes_the_local_corpus(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    path = corpus_file(tmp_path, planted()[0])
    args = [str(path), "--id-field", "id", "-q"]
    local = CliRunner().invoke(corpus, [*args, "-o", str(tmp_path / "local"), "--workers", "1"])
    assert local.exit_code == 0, local.output
    remote = CliRunner().invoke(
        corpus,
        [*args, "-o", str(tmp_path / "remote"), "--scheduler", cluster.scheduler_address],
        catch_exceptions=False,
    )
    assert remote.exit_code == 0, remote.output
    assert outputs(tmp_path / "remote") == outputs(tmp_path / "local")


@pytest.mark.slow
def test_cli_dask_local_starts_its_own_cluster(tmp_path: Path) -> None:
    path = corpus_file(tmp_path, crawl())
    args = [str(path), "--id-field", "id", "-q", "--workers", "1"]  # one worker: quick to start
    local = CliRunner().invoke(corpus, [*args, "-o", str(tmp_path / "local")])
    remote = CliRunner().invoke(
        corpus, [*args, "-o", str(tmp_path / "remote"), "--dask", "local"], catch_exceptions=False
    )
    assert remote.exit_code == local.exit_code == 0, remote.output
    assert outputs(tmp_path / "remote") == outputs(tmp_path / "local")


def test_cli_bad_cluster_usage_is_one_line(cluster: LocalCluster, tmp_path: Path) -> None:
    path = corpus_file(tmp_path, planted()[0][:5])
    both = CliRunner().invoke(
        corpus,
        [
            str(path),
            "-o",
            str(tmp_path / "o"),
            "--scheduler",
            "tcp://127.0.0.1:1",
            "--dask",
            "local",
        ],
    )
    assert both.exit_code == 2
    assert "give --scheduler or --dask local, not both" in both.stderr
    missing = tmp_path / "missing.jsonl"
    gone = CliRunner().invoke(
        corpus, [str(missing), "-o", str(tmp_path / "o"), "--scheduler", cluster.scheduler_address]
    )
    assert gone.exit_code == 2
    assert gone.stderr == f"dedupe: error: {missing}: no such file or directory\n"


def test_an_input_gone_between_passes_is_an_input_error(client: Client, tmp_path: Path) -> None:
    path = corpus_file(tmp_path, planted()[0])
    source = open_source([path], id_field="id")

    class Unlinking:
        """Removes the input once the read pass is over: the workers that
        read the candidates' partitions find it gone."""

        def start(self, stage: str, total: int | None) -> None:
            if stage != "read":
                path.unlink(missing_ok=True)

        def advance(self, count: int) -> None:
            return None

    with pytest.raises(InputError, match=r"in\.jsonl: cannot read: No such file"):
        write_corpus(source, tmp_path / "out", executor=DaskExecutor(client), progress=Unlinking())
    assert not (tmp_path / "out").exists()


def test_dask_executor_maps_in_order_and_owns_no_client(
    cluster: LocalCluster, client: Client
) -> None:
    executor = DaskExecutor(client)
    assert list(executor.map(abs, range(-20, 0))) == list(range(20, 0, -1))
    executor.close()
    assert client.status == "running"
    with dask_executor(cluster.scheduler_address) as other:
        assert other.workers == 2


def test_inputs_as_fsspec_urls(cluster: LocalCluster, tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    records = planted()[0]
    plain = corpus_file(tmp_path, records, "in.jsonl")
    packed = corpus_file(tmp_path, records, "in.jsonl.gz")
    memory = fsspec.filesystem("memory")
    memory.pipe("/dedupe-test/in.jsonl.gz", packed.read_bytes())
    try:
        local = CliRunner().invoke(
            corpus, [str(plain), "-o", str(tmp_path / "local"), "-q", "--workers", "1"]
        )
        url = "memory://dedupe-test/in.jsonl.gz"
        on_cluster = [
            "-o",
            str(tmp_path / "remote"),
            "-q",
            "--scheduler",
            cluster.scheduler_address,
        ]
        remote = CliRunner().invoke(corpus, [url, *on_cluster], catch_exceptions=False)
        missing = CliRunner().invoke(
            corpus, ["memory://dedupe-test/gone.jsonl", "-o", str(tmp_path / "o")]
        )
    finally:
        memory.rm("/dedupe-test", recursive=True)
    assert local.exit_code == remote.exit_code == 0, remote.output
    # Same records, ids from line numbers of a file named alike; gzip output for gzip input.
    assert gzip.decompress(outputs(tmp_path / "remote")["corpus/in.jsonl.gz"]).replace(
        b"memory://dedupe-test/in.jsonl.gz", b"in.jsonl"
    ) == outputs(tmp_path / "local")["corpus/in.jsonl"].replace(str(plain).encode(), b"in.jsonl")
    assert missing.exit_code == 2
    assert missing.stderr == (
        "dedupe: error: memory://dedupe-test/gone.jsonl: no such file or directory\n"
    )


@pytest.mark.slow
def test_workers_read_url_inputs_and_the_output_goes_to_a_url(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    pytest.importorskip("fsspec")
    records = planted()[0] + crawl()
    plain = corpus_file(tmp_path, records, "in.jsonl")
    local = CliRunner().invoke(
        corpus, [str(plain), "-o", str(tmp_path / "local"), "-q", "--workers", "1"]
    )
    # An uncompressed input is read in byte ranges by the workers themselves.
    url_in, url_out = f"file://{plain}", f"file://{tmp_path}/remote"
    args = [url_in, "-o", url_out, "-q", "--scheduler", cluster.scheduler_address]
    remote = CliRunner().invoke(corpus, args, catch_exceptions=False)
    assert local.exit_code == remote.exit_code == 0, remote.output
    expected = {
        name: data.replace(str(plain).encode(), url_in.encode())
        for name, data in outputs(tmp_path / "local").items()
    }
    assert outputs(tmp_path / "remote") == expected
    assert (tmp_path / "remote" / "summary.json").exists()
    again = CliRunner().invoke(corpus, args)
    assert again.exit_code == 2
    assert again.stderr == (
        f"dedupe: error: {url_out}: already exists (use --overwrite to replace it)\n"
    )
    (tmp_path / "remote" / "stale.txt").write_text("from an earlier run")
    replaced = CliRunner().invoke(corpus, [*args, "--overwrite"], catch_exceptions=False)
    assert replaced.exit_code == 0
    assert outputs(tmp_path / "remote") == expected


def test_an_output_url_nobody_can_write_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    path = corpus_file(tmp_path, planted()[0][:5])
    result = CliRunner().invoke(corpus, [str(path), "-o", "nosuchscheme://x/out", "-q"])
    assert result.exit_code == 2
    assert result.stderr.startswith("dedupe: error: nosuchscheme://x/out: cannot write: ")
    assert result.stderr.count("\n") == 1


def test_dask_local_starts_at_most_one_single_threaded_worker_a_core() -> None:
    cores = available_cores()
    assert local_worker_count(None) == cores
    assert local_worker_count(cores + 6) == cores
    assert local_worker_count(1) == 1


@pytest.mark.slow
def test_dask_local_cluster_settings_and_scratch_space(tmp_path: Path) -> None:
    with dask_executor(local_workers=available_cores() + 6, tmp_dir=tmp_path) as executor:
        threads = executor.client.nthreads()
        (scratch,) = tmp_path.iterdir()
        assert scratch.name.startswith("dedupe-dask-")
        assert any(scratch.iterdir())
    assert sorted(threads.values()) == [1] * available_cores()
    assert executor.workers == available_cores()
    assert list(tmp_path.iterdir()) == []
