"""dedupe: find and remove repeated and near-repeated text.

Heavy modules load on first use, so ``import dedupe`` and the command line
start fast; the names below are the public API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dedupe.boilerplate import BoilerplateOptions, BoilerplateParagraph
    from dedupe.cleaning import CleanOptions, CleanResult, Removal, RepeatedBlock, clean
    from dedupe.corpus import (
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
    from dedupe.groups import KeepPolicy
    from dedupe.html import Extractor, HtmlCleanResult, clean_html
    from dedupe.index import (
        BoilerplateRemoval,
        IndexCleanResult,
        IndexMatch,
        IndexStats,
        NearDuplicateIndex,
    )
    from dedupe.minhash import signatures
    from dedupe.neardups import NearDupOptions
    from dedupe.paragraphs import Paragraph, ParagraphMode
    from dedupe.readers import open_source
    from dedupe.verify import Method

__version__ = "0.1.0"

_LAZY = {
    "BoilerplateOptions": "dedupe.boilerplate",
    "BoilerplateParagraph": "dedupe.boilerplate",
    "BoilerplateRemoval": "dedupe.index",
    "CleanOptions": "dedupe.cleaning",
    "CleanResult": "dedupe.cleaning",
    "ClusterMember": "dedupe.corpus",
    "CorpusOptions": "dedupe.corpus",
    "CorpusResult": "dedupe.corpus",
    "CorpusSummary": "dedupe.corpus",
    "DedupeError": "dedupe.errors",
    "Extractor": "dedupe.html",
    "HtmlCleanResult": "dedupe.html",
    "IndexCleanResult": "dedupe.index",
    "IndexMatch": "dedupe.index",
    "IndexStats": "dedupe.index",
    "IndexStoreError": "dedupe.errors",
    "InputError": "dedupe.errors",
    "KeepPolicy": "dedupe.groups",
    "Method": "dedupe.verify",
    "NearDupOptions": "dedupe.neardups",
    "NearDuplicateIndex": "dedupe.index",
    "OnError": "dedupe.corpus",
    "OptionsError": "dedupe.errors",
    "OutputError": "dedupe.errors",
    "Paragraph": "dedupe.paragraphs",
    "ParagraphMode": "dedupe.paragraphs",
    "Removal": "dedupe.cleaning",
    "RepeatedBlock": "dedupe.cleaning",
    "clean": "dedupe.cleaning",
    "clean_html": "dedupe.html",
    "dedupe_corpus": "dedupe.corpus",
    "open_source": "dedupe.readers",
    "signatures": "dedupe.minhash",
    "write_corpus": "dedupe.corpus",
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
