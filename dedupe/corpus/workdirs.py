"""Working directories that say which process made them.

A corpus run writes its output into ``.OUT.<owner>.<random>.partial`` beside
OUT and spills to ``dedupe-corpus-<owner>-<random>`` in the temp dir, where
``<owner>`` is ``<host>-<pid>-<start>``: a hash of the host name, the process
id and the process's start time (in clock ticks since boot, from ``/proc``;
0 where there is none). After a ``kill -9`` these stay behind; a later run on
the same host removes the ones whose process is provably gone (no such
process, or a process with that id started at another time). A directory
made on another host, by a live process, or named without an owner is never
touched.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import tempfile
from functools import cache
from pathlib import Path

from xxhash import xxh3_64_hexdigest

_OWNER = r"(?P<owner>[0-9a-f]{8}-\d+-\d+)"


@cache
def _host() -> str:
    return xxh3_64_hexdigest(socket.gethostname().encode())[:8]


def process_start(pid: int) -> int:
    """When process ``pid`` started, in clock ticks since boot; 0 if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    # Field 22; the command name (field 2) may hold spaces and parentheses.
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[19]) if len(fields) > 19 else 0


def owner() -> str:
    """``<host>-<pid>-<start>`` of this process."""
    pid = os.getpid()
    return f"{_host()}-{pid}-{process_start(pid)}"


def _gone(tag: str) -> bool:
    """Whether the process named by an owner tag is provably not running."""
    host, pid_text, start_text = tag.split("-")
    if host != _host():
        return False
    pid, start = int(pid_text), int(start_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    now = process_start(pid)
    # The id was reused by a process started at another time.
    return bool(start and now and now != start)


def remove_stale(parent: Path, pattern: re.Pattern[str]) -> list[Path]:
    """Remove the entries of ``parent`` whose whole name matches ``pattern``
    (with an ``owner`` group) and whose owner is provably gone; the paths
    removed, sorted. What cannot be removed stays for the user."""
    removed: list[Path] = []
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not _gone(match["owner"]):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


def remove_stale_outputs(parent: Path, name: str) -> list[Path]:
    """Remove the :func:`fresh_dir` directories for output ``name`` in
    ``parent`` whose process is provably gone."""
    pattern = re.compile(rf"\.{re.escape(name)}\.{_OWNER}\.[0-9a-f]{{8}}\.(partial|old)")
    return remove_stale(parent, pattern)


def fresh_dir(parent: Path, name: str, suffix: str) -> Path:
    """A new hidden directory ``.NAME.<owner>.<random>.SUFFIX`` in
    ``parent``, with the umask's permissions (``tempfile.mkdtemp`` would
    make the output private)."""
    tag = owner()
    while True:
        path = parent / f".{name}.{tag}.{secrets.token_hex(4)}.{suffix}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def temp_dir(kind: str, parent: Path | None) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory ``dedupe-KIND-<owner>-<random>`` under
    ``parent`` (``None``: the system's), after removing the ones of that
    kind left by processes that are gone."""
    where = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    remove_stale(where, re.compile(rf"dedupe-{re.escape(kind)}-{_OWNER}-.+"))
    return tempfile.TemporaryDirectory(prefix=f"dedupe-{kind}-{owner()}-", dir=parent)
