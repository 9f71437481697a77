"""Every error that dedupe raises on purpose.

    DedupeError       root: the CLI turns any of these into one line and exit 2
    +-- InputError    unreadable input: missing, a directory, binary, bad encoding, bad record
    +-- OptionsError  options out of range or contradicting each other
    +-- IndexStoreError
    |   |             an index that is corrupt, foreign, or opened with other parameters
    |   +-- IndexLostError
    |                 an open index that vanished from under it: a Redis flushed or
    |                 restarted empty, an SQLite file deleted or replaced
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


class IndexLostError(IndexStoreError):
    """An open index whose store no longer holds it: its metadata vanished or
    was recreated (a Redis flushed or restarted without persistence, an SQLite
    file deleted or replaced). Nothing is answered or written after it; reopen
    the index, and re-add what it held if it must know it."""


class OutputError(DedupeError):
    """An output file or directory that cannot be written."""
