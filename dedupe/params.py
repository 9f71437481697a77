"""Every default and tunable of dedupe, defined once.

Option dataclasses, function signatures and CLI flags take their defaults
from here. Where two front doors use different values for what looks like the
same setting, each has its own name below and a comment says why they differ;
merging them would change results.
"""

from __future__ import annotations

# -- Similarity -----------------------------------------------------------------
# Jaccard similarity of shingle sets at which two texts are near duplicates:
# paragraphs in `clean`, documents in `corpus` and the index, paragraph variants
# in corpus boilerplate.
THRESHOLD = 0.8

# -- Shingles -------------------------------------------------------------------
# Words per shingle when comparing paragraphs (`clean`, boilerplate variants).
# Word triples: a one-word edit costs three shingles, so the tolerance grows
# with length (a 50-word paragraph survives two typos, a 20-word citation
# that names another item does not).
SHINGLE_SIZE = 3
# Characters per shingle for keys shorter than SHINGLE_SIZE tokens.
CHAR_SHINGLE_SIZE = 4
# Words per shingle when comparing whole documents (`corpus`, the index,
# `signatures()`). Differs from SHINGLE_SIZE: documents and paragraphs were
# tuned apart, and the README documents both values.
DOCUMENT_NGRAM = 5

# -- MinHash --------------------------------------------------------------------
NUM_PERM = 128
SEED = 1

# -- LSH: the allowed chance that a pair exactly at the threshold is missed -----
# Three values, one per front door; each decides the band/row choice, so
# merging them would change which candidates are found.
# `clean`: in one text false candidates are cheap to verify, so ask for
# near-certain recall.
CLEAN_MAX_MISS = 1e-6
# `dedupe corpus`, and the default of `choose_bands`.
CORPUS_MAX_MISS = 0.001
# The persistent index: 21 bands of 6 rows for the defaults (0.17% missed at
# 0.8). Stored in the index's parameters, so changing it needs a new index.
INDEX_MAX_MISS = 0.01
# Sorted neighbours compared per band bucket in the batch band join.
BAND_WINDOW = 8

# -- Which paragraphs may be removed -------------------------------------------
# `clean` (`--min-words`): a paragraph of fewer words is not removed on its
# own (see README, "what is removed").
CLEAN_MIN_WORDS = 15
# The grouping stage's own default, used when it is called without CleanOptions
# (CleanOptions always passes CLEAN_MIN_WORDS; boilerplate passes 0).
GROUP_MIN_WORDS = 8

# -- Boilerplate: documents of a site a paragraph must appear in ---------------
# Two values, both documented in README: `dedupe corpus --boilerplate-min-docs`
# (5) and the index's `min_docs` (3). Merging them would change what is cut.
CORPUS_MIN_DOCS = 5
INDEX_MIN_DOCS = 3
# Share (0-1] of a site's documents a paragraph must appear in (both).
MIN_SHARE = 0.5
# Repeated keys of a site looked at for near-duplicate families: the most
# widespread ones (a family that is boilerplate is among them in practice),
# which bounds the texts read and compared per site.
NEAR_KEYS_PER_SITE = 1000

# -- Batches (memory bounds; results do not depend on them) ---------------------
# Characters of keys shingled at once (`clean` and corpus near duplicates).
SHINGLE_BATCH_CHARS = 1 << 20
# Characters of text signed at once by `signatures()` (numpy path: about 60
# bytes a character).
SIGNATURE_BATCH_CHARS = 1 << 21
# Rows of an output Parquet file written at once.
PARQUET_BATCH_ROWS = 1024
# Records per corpus task.
CHUNK_SIZE = 256
# A corpus of fewer bytes (text of records in memory, or input files as
# stored) runs in the calling process when no worker count is given: starting
# workers and loading the compiled signer there costs more than it saves.
IN_PROCESS_MAX_BYTES = 1 << 20
# Band rows per Dask partition.
DASK_BAND_ROWS = 1 << 18
