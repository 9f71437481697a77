"""The runner interface of a corpus run, and settings built from one another."""

from __future__ import annotations

from dedupe.corpus.engines import NearDupJob, NearDups
from dedupe.corpus.executors import SerialExecutor
from dedupe.corpus.near_duplicates import NearDupOptions
from dedupe.corpus.pipeline import CorpusOptions, dedupe_corpus
from dedupe.index.base import IndexParams
from dedupe.io.records import FieldLine, records
from dedupe.params import INDEX_MAX_MISS


class Recording(SerialExecutor):
    """A runner that is SerialExecutor but for its near-duplicate stage, which it records."""

    def __init__(self) -> None:
        self.jobs: list[NearDupJob] = []

    def near_duplicates(self, job: NearDupJob) -> NearDups:
        self.jobs.append(job)
        return super().near_duplicates(job)


def test_the_run_asks_its_runner_for_the_near_duplicate_stage() -> None:
    text = "the same words of one page repeated across two copies of it " * 3
    runner = Recording()
    docs = [{"text": text}, {"text": text}, {"text": "something else entirely, not like them"}]
    with dedupe_corpus(docs, executor=runner, options=CorpusOptions(workers=1)) as result:
        kept = [r["text"] for r in result]
    assert len(runner.jobs) == 1
    assert len(runner.jobs[0].rank) == 3
    assert kept == [text, "something else entirely, not like them"]
    assert [m.id for m in result.cluster_members()] == ["0", "1"]


def test_index_params_come_from_the_near_duplicate_options() -> None:
    near = NearDupOptions(threshold=0.7, ngram=4, num_perm=64, seed=9, max_miss=0.002)
    params = near.index_params()
    assert params == IndexParams(threshold=0.7, ngram=4, num_perm=64, seed=9)
    # The index keeps its own miss rate: it is stored and decides its bands.
    assert params.max_miss == INDEX_MAX_MISS


def test_field_lines_are_not_documents() -> None:
    lines = list(records('{"text": "a"}\n\n', field="text", name="x.jsonl"))
    assert isinstance(lines[0], FieldLine)
    assert lines[0].replaced("b") == '{"text": "b"}\n'
    assert lines[1] == "\n"
