"""Every error that dedupe raises on purpose.

    DedupeError       root: the CLI turns any of these into one line and exit 2
    +-- InputError    unreadable input: missing, a directory, binary, bad encoding, bad record
    +-- OptionsError  options out of range or contradicting each other
    +-- IndexStoreError
    |                 an index that is corrupt, foreign, or opened with other parameters
    +-- OutputError   an output that cannot be written

Anything else escaping the library is a bug.
"""

from __future__ import annotations


class DedupeError(Exception):
    """Root of every error dedupe raises on purpose; its message is one line for the user."""


class InputError(DedupeError):
    """The input cannot be read as text: missing, a directory, binary, undecodable, or malformed."""


class OptionsError(DedupeError):
    """Options out of range or contradicting each other."""


class IndexStoreError(DedupeError):
    """A near-duplicate index that is corrupt, not a dedupe index, or has other parameters."""


class OutputError(DedupeError):
    """An output file or directory that cannot be written."""
