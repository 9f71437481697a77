"""The runner interface of a corpus run."""

from __future__ import annotations

from dedupe.corpus.engines import NearDupJob, NearDups
from dedupe.corpus.executors import SerialExecutor
from dedupe.corpus.pipeline import CorpusOptions, dedupe_corpus


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
