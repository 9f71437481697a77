"""The README's shell examples, run as written.

Every command of the README's ```sh blocks and every ``$ `` line of its
```console blocks is run by ``bash -o pipefail -c`` (pipes, redirections and
globs as a user types them) in a fresh directory holding the files the
examples name, with this project's ``dedupe`` first on PATH. Each must exit
as the README says and leave what it says; a console block's output must be
what the README shows (``...`` stands for any lines). An example that needs
what a test machine lacks is listed in SKIPPED with the reason; an example
that is in neither table fails the suite.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SAMPLE = (ROOT / "samples" / "rudaw-article.txt").read_text(encoding="utf-8")
EXPECTED = (ROOT / "samples" / "rudaw-article.expected.txt").read_text(encoding="utf-8")
POLICY = "Rudaw moderates all comments submitted on our website."


@dataclass(frozen=True)
class Example:
    command: str  # as written, continuation lines and comments included
    output: tuple[str, ...]  # what a console block shows after it

    @property
    def key(self) -> str:
        """The command without comments or layout, naming it in the tables."""
        lines = [re.sub(r"\s+#\s.*$", "", ln) for ln in self.command.split("\n")]
        return " ".join(" ".join(lines).replace("\\ ", " ").split())


def readme_examples(text: str = README) -> list[Example]:
    """The shell commands of ``text``'s ```sh and ```console blocks, in order.

    A command runs on over lines ending in a backslash or inside an open
    quote; in a console block only ``$ `` lines are commands and the lines
    after one, up to the next, are its output."""
    out: list[Example] = []
    for match in re.finditer(r"^```(sh|console)\n(.*?)^```", text, re.DOTALL | re.MULTILINE):
        lang, body = match.groups()
        pending = ""
        for line in body.splitlines():
            if lang == "console" and not pending:
                if not line.startswith("$ "):
                    if out:
                        last = out[-1]
                        out[-1] = Example(last.command, (*last.output, line))
                    continue
                line = line[2:]
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending = f"{pending}\n{line}" if pending else line
            if pending.endswith("\\"):
                continue
            try:
                shlex.split(pending, comments=True)
            except ValueError:  # an open quote: the command goes on
                continue
            out.append(Example(pending, ()))
            pending = ""
        assert not pending, f"unfinished command in the README: {pending!r}"
    return out


EXAMPLES = readme_examples()


# --- the files the examples name -------------------------------------------

RNG = random.Random(12)
VOCAB = [f"w{n}" for n in range(3000)]


def words(count: int = 200) -> list[str]:
    return [RNG.choice(VOCAB) for _ in range(count)]


def near(text: list[str]) -> str:
    """``text`` with two words changed: Jaccard about 0.9."""
    out = list(text)
    out[50], out[150] = "changed", "edited"
    return " ".join(out)


def documents() -> list[str]:
    """Five documents of which the second is a near-duplicate of the first."""
    first = words()
    return [" ".join(first), near(first), *(" ".join(words()) for _ in range(3))]


def article(body: str) -> str:
    """A rudaw.net page: its own body, then the site's comments-policy block."""
    return body + "\n" + "\n".join(SAMPLE.split("\n")[23:])


def write_jsonl(path: Path, records: list[dict[str, object]]) -> None:
    text = "".join(json.dumps(r) + "\n" for r in records)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text, encoding="utf-8")


def make_workspace(root: Path) -> None:
    """Every input the README's examples name, under ``root``."""
    shutil.copytree(ROOT / "samples", root / "samples")
    for name in ("page.txt", "a.txt", "b.txt", "c.txt"):
        (root / name).write_text(SAMPLE, encoding="utf-8")
    paragraphs = "".join(f"<p>{p}</p>\n" for p in SAMPLE.split("\n")[:23])
    (root / "page.html").write_text(
        f"<!DOCTYPE html><html><head><title>Rudaw</title></head><body><article>\n"
        f"<h1>US commanders ordered to plan for escalation in Iraq</h1>\n{paragraphs}"
        "</article></body></html>\n",
        encoding="utf-8",
    )
    write_jsonl(
        root / "crawl.jsonl",
        [{"id": "rudaw-1", "url": "https://www.rudaw.net/a", "text": SAMPLE, "lang": "en"}],
    )

    data = root / "data"
    data.mkdir()
    docs = documents()
    for part, chunk in (("part-1", docs[:3]), ("part-2", docs[3:])):
        start = 0 if part == "part-1" else 3
        records: list[dict[str, object]] = [
            {"id": f"d{start + n}", "text": t} for n, t in enumerate(chunk)
        ]
        write_jsonl(data / f"{part}.jsonl.gz", records)
        write_jsonl(data / f"{part}.jsonl", records)

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"id": [f"p{n}" for n in range(5)], "body": docs, "score": [1, 9, 3, 4, 5]}),
        root / "crawl.parquet",
    )

    (root / "pages").mkdir()
    for n, text in enumerate(docs):
        (root / "pages" / f"page-{n}.txt").write_text(text, encoding="utf-8")

    write_jsonl(root / "week-48.jsonl.gz", [{"id": f"w{n}", "text": t} for n, t in enumerate(docs)])

    from tests.test_warc import Writer

    wet = Writer(root / "CC-MAIN-2026-48-00000.warc.wet.gz")
    wet.warcinfo()
    for n, text in enumerate(docs):
        wet.conversion(f"http://site{n % 2}.example/{n}", text)
    wet.close()
    warc = Writer(root / "crawl-00000.warc.gz")
    warc.warcinfo()
    for n, text in enumerate(docs):
        warc.request(f"http://site{n % 2}.example/{n}")
        warc.response(f"http://site{n % 2}.example/{n}", f"<html><body><p>{text}</p></body></html>")
    warc.close()

    # Four rudaw.net articles sharing the comments-policy block, and a new
    # crawl holding a near copy of one of them.
    (root / "crawl").mkdir()
    (root / "new").mkdir()
    bodies = [words() for _ in range(4)]
    for n, body in enumerate(bodies):
        (root / "crawl" / f"article-{n}.txt").write_text(article(" ".join(body)), "utf-8")
    (root / "new" / "copy.txt").write_text(article(near(bodies[0])), encoding="utf-8")
    (root / "new" / "fresh.txt").write_text(article(" ".join(words())), encoding="utf-8")


# --- what each example must do ---------------------------------------------


@dataclass(frozen=True)
class Run:
    """Bash's status, then the files and output left in ``cwd``."""

    status: int
    stdout: str
    stderr: str
    cwd: Path


Check = Callable[[Run], None]


@dataclass(frozen=True)
class Expect:
    status: int = 0
    check: Check | None = None
    setup: str = ""  # shell run first in the same directory (state an example needs)
    slow: bool = False
    checkout: bool = False  # run in a copy of this checkout, not among the example files


def text(run: Run, name: str) -> str:
    return (run.cwd / name).read_text(encoding="utf-8")


def cleaned(*names: str) -> Check:
    def check(run: Run) -> None:
        for name in names:
            assert text(run, name) == EXPECTED, name

    return check


def installed_and_cleaned(run: Run) -> None:
    assert run.stdout == EXPECTED
    assert "removed 11 of 29 paragraphs" in run.stderr


def console_output(run: Run) -> None:
    assert text(run, "clean.txt") == EXPECTED


def nothing_written(run: Run) -> None:
    assert run.stdout == ""
    assert sorted(p.name for p in run.cwd.glob("*.txt")) == ["a.txt", "b.txt", "c.txt", "page.txt"]
    assert text(run, "page.txt") == SAMPLE


def json_report(run: Run) -> None:
    (line,) = text(run, "report.jsonl").splitlines()
    report = json.loads(line)
    assert report["schema"] == "dedupe.clean/1"
    assert report["counts"]["removed"] == 11
    assert text(run, "page.txt") == SAMPLE


def html_report(run: Run) -> None:
    page = text(run, "report.html")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "Issued last week" in page


def jsonl_cleaned(run: Run) -> None:
    (line,) = text(run, "crawl.clean.jsonl").splitlines()
    assert json.loads(line) == {
        "id": "rudaw-1",
        "url": "https://www.rudaw.net/a",
        "text": EXPECTED,
        "lang": "en",
    }


def html_cleaned(run: Run) -> None:
    assert run.stdout.count("Issued last week") == 1
    assert "ordered by the Pentagon" in run.stdout


def corpus_output(out: str, files: list[str], dropped: int) -> Check:
    def check(run: Run) -> None:
        summary = json.loads(text(run, f"{out}/summary.json"))
        written = sorted(p.name for p in (run.cwd / out / "corpus").iterdir())
        assert written == files
        assert summary["documents_in"] - summary["documents_out"] == dropped, summary

    return check


def parquet_kept_by_score(run: Run) -> None:
    import pyarrow.parquet as pq

    ids = pq.read_table(run.cwd / "out" / "corpus" / "crawl.parquet")["id"].to_pylist()
    assert ids == ["p1", "p2", "p3", "p4"]  # p1 (score 9) kept over its twin p0


def week_added(run: Run) -> None:
    corpus_output("out-48", ["week-48.jsonl.gz"], 1)(run)
    assert (run.cwd / "seen.db").is_file()


def index_added(run: Run) -> None:
    assert run.stdout.count(": new, added") == 4, run.stdout


def index_stats(run: Run) -> None:
    assert re.search(r"^documents:\s+4$", run.stdout, re.MULTILINE), run.stdout


def index_check(run: Run) -> None:
    assert "new/copy.txt: near-duplicate of crawl/article-0.txt" in run.stdout
    assert "new/fresh.txt: new" in run.stdout


def boilerplate_cut(run: Run) -> None:
    assert POLICY in SAMPLE
    assert POLICY not in run.stdout
    assert "Issued last week" in run.stdout


INDEXED = "dedupe index add --site rudaw.net seen.db crawl/*.txt >/dev/null 2>&1\n"
WET = "CC-MAIN-2026-48-00000.warc.wet.gz"

RUN: dict[str, Expect] = {
    "python3 -m venv .venv && .venv/bin/pip install -q . && "
    ".venv/bin/dedupe clean samples/rudaw-article.txt": Expect(
        check=installed_and_cleaned, slow=True, checkout=True
    ),
    "dedupe clean samples/rudaw-article.txt > clean.txt": Expect(check=console_output),
    "dedupe clean page.txt -o page.clean.txt": Expect(check=cleaned("page.clean.txt")),
    "dedupe clean a.txt b.txt c.txt --output-dir clean/": Expect(
        check=cleaned("clean/a.txt", "clean/b.txt", "clean/c.txt")
    ),
    "cat page.txt | dedupe clean - > page.clean.txt": Expect(check=cleaned("page.clean.txt")),
    "dedupe clean --check *.txt": Expect(status=1, check=nothing_written),
    "dedupe clean --report diff page.txt | patch -p1": Expect(check=cleaned("page.txt")),
    "dedupe clean --report json --report-file report.jsonl page.txt": Expect(check=json_report),
    "dedupe clean --report html --report-file report.html page.txt": Expect(check=html_report),
    "dedupe clean --jsonl --field text crawl.jsonl > crawl.clean.jsonl": Expect(
        check=jsonl_cleaned
    ),
    "dedupe clean page.html": Expect(check=html_cleaned),
    "dedupe corpus data/*.jsonl.gz --field text --id-field id -o out/": Expect(
        check=corpus_output("out", ["part-1.jsonl.gz", "part-2.jsonl.gz"], 1)
    ),
    "dedupe corpus crawl.parquet --field body --keep-by score -o out/": Expect(
        check=parquet_kept_by_score
    ),
    "dedupe corpus pages/ -o out/": Expect(
        check=corpus_output("out", [f"page-{n}.txt" for n in (0, 2, 3, 4)], 1)
    ),
    "dedupe corpus pages/*.txt -o out/": Expect(
        check=corpus_output("out", [f"page-{n}.txt" for n in (0, 2, 3, 4)], 1)
    ),
    "dedupe corpus CC-MAIN-*.warc.wet.gz -o out/": Expect(check=corpus_output("out", [WET], 1)),
    "dedupe corpus crawl-*.warc.gz -o out/ --jsonl": Expect(
        check=corpus_output("out", ["crawl-00000.jsonl.gz"], 1)
    ),
    "dedupe corpus week-48.jsonl.gz --id-field id -o out-48/ --against seen.db --add": Expect(
        check=week_added
    ),
    "dedupe corpus data/*.jsonl -o out/ --dask local --workers 8": Expect(
        check=corpus_output("out", ["part-1.jsonl", "part-2.jsonl"], 1), slow=True
    ),
    "dedupe index add --site rudaw.net seen.db crawl/*.txt": Expect(check=index_added),
    "dedupe index check seen.db new/*.txt": Expect(status=1, setup=INDEXED, check=index_check),
    "dedupe index stats seen.db": Expect(setup=INDEXED, check=index_stats),
    "dedupe clean --index seen.db --site rudaw.net page.txt": Expect(
        setup=INDEXED, check=boilerplate_cut
    ),
}

NETWORK = "installs from the package index into the environment it runs in"
RECURSIVE = "runs this test suite itself; .ci/run runs the README's test command verbatim"
CLUSTER = "needs a cluster the test machine lacks"
SKIPPED: dict[str, str] = {
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && "
    ".venv/bin/python -m pytest": f"{NETWORK}; {RECURSIVE}",
    "pip install 'dedupe-text[warc,html]'": f"{NETWORK}; the extras are installed here",
    "dedupe corpus s3://bucket/crawl/part-000.jsonl.gz s3://bucket/crawl/part-001.jsonl.gz "
    "--id-field id -o out/ --scheduler tcp://scheduler:8786": f"{CLUSTER} (a Dask scheduler)"
    " and an s3:// bucket; test_dask.py runs the LocalCluster path with file:// URLs",
    "dask scheduler --port 8786 &": f"{CLUSTER} (Slurm login node)",
    'sbatch --nodes=4 --ntasks-per-node=8 --mem=32G --time=02:00:00 --wrap "srun dask worker '
    'tcp://$(hostname):8786 --nthreads 1 --memory-limit 4GB"': f"{CLUSTER} (Slurm)",
    "dedupe corpus /scratch/crawl/*.jsonl.gz --id-field id -o /scratch/crawl-dedup "
    "--scheduler tcp://$(hostname):8786": f"{CLUSTER} (Slurm)",
    "helm install --repo https://helm.dask.org --create-namespace -n dask-operator "
    "--generate-name dask-kubernetes-operator": f"{CLUSTER} (Kubernetes)",
    'python -c \'from dask_kubernetes.operator import KubeCluster; KubeCluster(name="dedupe", '
    'image="ghcr.io/dask/dask:2026.8.0-py3.11", n_workers=16, env={"EXTRA_PIP_PACKAGES": '
    '"dedupe-text[dask] s3fs"}, shutdown_on_close=False)\'': f"{CLUSTER} (Kubernetes)",
    "kubectl port-forward service/dedupe-scheduler 8786:8786 &": f"{CLUSTER} (Kubernetes)",
    "dedupe corpus s3://bucket/crawl/part-000.jsonl.gz -o out/ --scheduler "
    "tcp://localhost:8786": f"{CLUSTER} (Kubernetes) and an s3:// bucket",
    ".venv/bin/python -m pytest": RECURSIVE,
    '.venv/bin/python -m pytest -m "not slow"': RECURSIVE,
    ".venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy": (
        "lint and type checks of the checkout, not a behaviour of dedupe; .ci/run runs them"
    ),
}


def test_every_readme_example_is_run_or_skipped_with_a_reason() -> None:
    keys = [e.key for e in EXAMPLES]
    assert len(keys) == len(set(keys))
    assert not RUN.keys() & SKIPPED.keys()
    new = [k for k in keys if k not in RUN and k not in SKIPPED]
    assert not new, f"README examples neither run nor skipped here: {new}"
    gone = [k for k in (*RUN, *SKIPPED) if k not in keys]
    assert not gone, f"examples no longer in the README: {gone}"


def test_a_new_example_is_noticed() -> None:
    extra = "\n```sh\ndedupe clean --new-flag page.txt   # new\n```\n"
    new = {e.key for e in readme_examples(README + extra)} - {e.key for e in EXAMPLES}
    assert new == {"dedupe clean --new-flag page.txt"}
    assert not new & (RUN.keys() | SKIPPED.keys())


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    make_workspace(root)
    return root


def run_example(command: str, cwd: Path, setup: str = "") -> Run:
    """``command`` run by bash in ``cwd``, this checkout's ``dedupe`` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("COLUMNS", None)
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", setup + command],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, cwd)


def matches_shown(shown: tuple[str, ...], actual: list[str]) -> bool:
    """``actual`` is ``shown`` with each ``...`` line standing for any lines."""
    if not shown:
        return not actual
    head, rest = shown[0], shown[1:]
    if head.strip() == "...":
        return any(matches_shown(rest, actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0].rstrip() == head.rstrip() and matches_shown(rest, actual[1:])


def test_matches_shown_honours_elisions() -> None:
    assert matches_shown(("a", "...", "d"), ["a", "b", "c", "d"])
    assert matches_shown(("a", "...", "d"), ["a", "d"])
    assert not matches_shown(("a", "...", "d"), ["a", "b", "c"])
    assert not matches_shown(("a", "b"), ["a", "b", "c"])


def params() -> list[object]:
    """One case per example; one in neither table is still run, expecting exit 0."""
    out: list[object] = []
    for example in EXAMPLES:
        marks: list[pytest.MarkDecorator] = []
        if example.key in SKIPPED:
            marks = [pytest.mark.skip(reason=SKIPPED[example.key])]
        elif RUN.get(example.key, Expect()).slow:
            marks = [pytest.mark.slow]
        out.append(pytest.param(example, id=example.key[:70], marks=marks))
    return out


@pytest.mark.parametrize("example", params())
def test_readme_example(example: Example, workspace: Path, tmp_path: Path) -> None:
    expect = RUN.get(example.key, Expect())
    cwd = tmp_path / "work"
    if expect.checkout:
        ignore = shutil.ignore_patterns(
            ".git", ".venv", "__pycache__", ".*_cache", "build", "*.egg-info"
        )
        shutil.copytree(ROOT, cwd, ignore=ignore)
    else:
        shutil.copytree(workspace, cwd)
    run = run_example(example.command, cwd, expect.setup)
    said = f"$ {example.command}\nstdout:\n{run.stdout[-2000:]}\nstderr:\n{run.stderr[-2000:]}"
    assert run.status == expect.status, said
    assert "Traceback" not in run.stderr, said
    if example.output:
        assert matches_shown(example.output, run.stderr.splitlines()), said
    if expect.check is not None:
        expect.check(run)
