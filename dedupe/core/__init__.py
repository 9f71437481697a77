"""The stages every front door shares: paragraphs, normalize, shingles, MinHash, LSH, verify."""
