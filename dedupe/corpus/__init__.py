"""Corpus dedup: orchestration, near-duplicate documents, clusters, boilerplate, executors."""
