"""dedupe: find and remove repeated and near-repeated text.

Heavy modules load on first use, so ``import dedupe`` and the command line
start fast; the names below are the public API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dedupe.cleaning.groups import KeepPolicy
    from dedupe.cleaning.html import Extractor, HtmlCleanResult, clean_html
    from dedupe.cleaning.pipeline import CleanOptions, CleanResult, Removal, RepeatedBlock, clean
    from dedupe.core.minhash import signatures
    from dedupe.core.paragraphs import Paragraph, ParagraphMode
    from dedupe.core.verify import Method
    from dedupe.corpus.boilerplate import BoilerplateOptions, BoilerplateParagraph
    from dedupe.corpus.near_duplicates import NearDupOptions
    from dedupe.corpus.pipeline import (
        ClusterMember,
        CorpusOptions,
        CorpusResult,
        CorpusSummary,
        OnError,
        dedupe_corpus,
        write_corpus,
    )
    from dedupe.errors import (
        DedupeError,
        IndexStoreError,
        InputError,
        OptionsError,
        OutputError,
    )
    from dedupe.index import (
        BoilerplateRemoval,
        IndexCleanResult,
        IndexMatch,
        IndexStats,
        NearDuplicateIndex,
    )
    from dedupe.io.frames import Deduplicated, dedupe_dataset, dedupe_frame
    from dedupe.io.sources import open_source

# The one place the version is written; pyproject.toml reads it from here.
__version__ = "0.1.0"

_LAZY = {
    "BoilerplateOptions": "dedupe.corpus.boilerplate",
    "BoilerplateParagraph": "dedupe.corpus.boilerplate",
    "BoilerplateRemoval": "dedupe.index",
    "CleanOptions": "dedupe.cleaning.pipeline",
    "CleanResult": "dedupe.cleaning.pipeline",
    "ClusterMember": "dedupe.corpus.pipeline",
    "CorpusOptions": "dedupe.corpus.pipeline",
    "CorpusResult": "dedupe.corpus.pipeline",
    "CorpusSummary": "dedupe.corpus.pipeline",
    "DedupeError": "dedupe.errors",
    "Deduplicated": "dedupe.io.frames",
    "Extractor": "dedupe.cleaning.html",
    "HtmlCleanResult": "dedupe.cleaning.html",
    "IndexCleanResult": "dedupe.index",
    "IndexMatch": "dedupe.index",
    "IndexStats": "dedupe.index",
    "IndexStoreError": "dedupe.errors",
    "InputError": "dedupe.errors",
    "KeepPolicy": "dedupe.cleaning.groups",
    "Method": "dedupe.core.verify",
    "NearDupOptions": "dedupe.corpus.near_duplicates",
    "NearDuplicateIndex": "dedupe.index",
    "OnError": "dedupe.corpus.pipeline",
    "OptionsError": "dedupe.errors",
    "OutputError": "dedupe.errors",
    "Paragraph": "dedupe.core.paragraphs",
    "ParagraphMode": "dedupe.core.paragraphs",
    "Removal": "dedupe.cleaning.pipeline",
    "RepeatedBlock": "dedupe.cleaning.pipeline",
    "clean": "dedupe.cleaning.pipeline",
    "clean_html": "dedupe.cleaning.html",
    "dedupe_corpus": "dedupe.corpus.pipeline",
    "dedupe_dataset": "dedupe.io.frames",
    "dedupe_frame": "dedupe.io.frames",
    "open_source": "dedupe.io.sources",
    "signatures": "dedupe.core.minhash",
    "write_corpus": "dedupe.corpus.pipeline",
}

__all__ = [
    "BoilerplateOptions",
    "BoilerplateParagraph",
    "BoilerplateRemoval",
    "CleanOptions",
    "CleanResult",
    "ClusterMember",
    "CorpusOptions",
    "CorpusResult",
    "CorpusSummary",
    "DedupeError",
    "Deduplicated",
    "Extractor",
    "HtmlCleanResult",
    "IndexCleanResult",
    "IndexMatch",
    "IndexStats",
    "IndexStoreError",
    "InputError",
    "KeepPolicy",
    "Method",
    "NearDupOptions",
    "NearDuplicateIndex",
    "OnError",
    "OptionsError",
    "OutputError",
    "Paragraph",
    "ParagraphMode",
    "Removal",
    "RepeatedBlock",
    "__version__",
    "clean",
    "clean_html",
    "dedupe_corpus",
    "dedupe_dataset",
    "dedupe_frame",
    "open_source",
    "signatures",
    "write_corpus",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dedupe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
