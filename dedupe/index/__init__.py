"""The persistent near-duplicate index for scrapers: SQLite (default) or Redis.

See :class:`NearDuplicateIndex`; what is stored is described in
:mod:`dedupe.index.base`.
"""

from __future__ import annotations

from dedupe.index.base import IndexMatch, IndexParams, IndexStats, IndexStore
from dedupe.index.near_duplicates import (
    BoilerplateOptions,
    BoilerplateRemoval,
    IndexCleanResult,
    NearDuplicateIndex,
    open_store,
)

__all__ = [
    "BoilerplateOptions",
    "BoilerplateRemoval",
    "IndexCleanResult",
    "IndexMatch",
    "IndexParams",
    "IndexStats",
    "IndexStore",
    "NearDuplicateIndex",
    "open_store",
]
