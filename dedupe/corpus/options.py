"""Options of a corpus run: what each stage does, what a bad record does, where progress goes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from dedupe.cleaning.groups import KeepPolicy
from dedupe.cleaning.pipeline import CleanOptions
from dedupe.corpus.boilerplate import (
    BoilerplateOptions,
)
from dedupe.corpus.near_duplicates import (
    NearDupOptions,
)
from dedupe.errors import OptionsError
from dedupe.params import CHUNK_SIZE


class OnError(str, Enum):
    """What a bad record does: ``stop`` the run with an :class:`InputError`,
    or ``skip`` it and count it."""

    STOP = "stop"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class CorpusOptions:
    """Options of :func:`dedupe_corpus`.

    ``near_dups``/``boilerplate``/``clean``: each stage's options, ``None``
    to turn the stage off. ``keep``: which document of a cluster stays;
    ``keep_by``: a numeric field whose largest value stays instead (missing
    values rank last; ties by input order). ``workers``: processes (``None``:
    every core, or this process alone for an input known to be smaller than
    :data:`dedupe.params.IN_PROCESS_MAX_BYTES`; the output is the same).
    ``chunk_size``: records per partition of the input (a task).
    ``tmp_dir``: where the spilled band keys and shingle sets go (``None``:
    the system temp dir)."""

    near_dups: NearDupOptions | None = field(default_factory=NearDupOptions)
    boilerplate: BoilerplateOptions | None = field(default_factory=BoilerplateOptions)
    clean: CleanOptions | None = field(default_factory=CleanOptions)
    keep: KeepPolicy = KeepPolicy.FIRST
    keep_by: str | None = None
    workers: int | None = None
    chunk_size: int = CHUNK_SIZE
    tmp_dir: Path | None = None
    on_error: OnError = OnError.STOP

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise OptionsError(f"chunk size must be at least 1, not {self.chunk_size}")
        if self.workers is not None and self.workers < 1:
            raise OptionsError(f"workers must be at least 1, not {self.workers}")
        if self.keep_by is not None and self.keep is not KeepPolicy.FIRST:
            raise OptionsError("give either a keep policy or a keep-by field, not both")
        if self.keep is KeepPolicy.ARTICLE:
            # Forms judge paragraphs of one text; documents have no such order.
            raise OptionsError("corpus documents are kept first or longest, not by article form")

    def parameters(self) -> dict[str, Any]:
        """The options as JSON values."""
        text = json.dumps(
            asdict(self), default=lambda v: v.value if isinstance(v, Enum) else str(v)
        )
        parameters: dict[str, Any] = json.loads(text)
        return parameters


class Progress(Protocol):
    """Receives progress: a stage starts (``total`` units, ``None`` if
    unknown), then advances. Units: documents (read, shingles, output),
    candidate pairs (candidates, verify, near-duplicates), clusters, and
    boilerplate paragraphs; a stage of unknown total advances by what it
    found once it has found it."""

    def start(self, stage: str, total: int | None) -> None: ...

    def advance(self, count: int) -> None: ...


class NoProgress:
    def start(self, stage: str, total: int | None) -> None:
        return None

    def advance(self, count: int) -> None:
        return None
