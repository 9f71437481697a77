"""Reading inputs as text and writing outputs atomically.

Inputs are decoded as UTF-8 with no newline translation, so CRLF line ends and
a UTF-8 byte-order mark stay in the text and are written back byte for byte
(the comparison keys drop the mark; paragraph splitting understands CRLF).

Outputs are written to a temporary file in the target's directory, flushed to
disk and renamed over the target, so a reader (or a crash) only ever sees the
old file or the complete new one. The temporary file is hidden and named
``.NAME.<random>.dedupe-tmp``: any failure removes it, and only a process
killed outright (SIGKILL, power loss) can leave one behind; never a
half-written ``NAME``.

Test hook: when the environment variable ``DEDUPE_TEST_PAUSE_BEFORE_RENAME``
holds a number of seconds, :func:`atomic_write` sleeps that long between
finishing the temporary file and renaming it, so a test can kill the process
at exactly that point.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from dedupe.errors import InputError, OptionsError, OutputError

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
TEMP_SUFFIX = ".dedupe-tmp"
PAUSE_ENV = "DEDUPE_TEST_PAUSE_BEFORE_RENAME"


class DecodeErrors(str, Enum):
    """What to do with bytes that are not UTF-8.

    ``STRICT``: refuse the input. ``REPLACE``: decode each bad byte as U+FFFD,
    which means the output no longer has the input's bytes there.
    """

    STRICT = "strict"
    REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """``errors``: see :class:`DecodeErrors`; ``max_bytes``: larger inputs are refused."""

    errors: DecodeErrors = DecodeErrors.STRICT
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.max_bytes < 0:
            raise OptionsError(f"max_bytes must be 0 or more, not {self.max_bytes}")


def decode(data: bytes, name: str, options: ReadOptions) -> str:
    """``data`` as text, or :class:`InputError` naming ``name``.

    Refuses more than ``options.max_bytes`` bytes, NUL bytes (a binary file, or
    UTF-16) and, unless ``options.errors`` is ``REPLACE``, bytes that are not UTF-8.
    Pass up to ``max_bytes + 1`` bytes so that an oversized input is noticed
    without reading all of it.
    """
    if len(data) > options.max_bytes:
        raise InputError(f"{name}: larger than the {options.max_bytes:,}-byte limit (--max-bytes)")
    if b"\0" in data:
        raise InputError(f"{name}: binary file (contains NUL bytes), not UTF-8 text")
    try:
        return data.decode("utf-8", errors=options.errors.value)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "--errors replace decodes it anyway"
        ) from None


def read_text(path: Path, options: ReadOptions) -> str:
    """The file at ``path`` decoded by :func:`decode`.

    Raises :class:`InputError` for a missing path, a directory, an unreadable
    file, and whatever :func:`decode` refuses.
    """
    try:
        with path.open("rb") as f:
            data = f.read(options.max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return decode(data, str(path), options)


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _fsync_directory(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # Windows cannot open a directory
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, backup_suffix: str | None = None) -> None:
    """Replace the file at ``path`` with ``data``, all at once or not at all.

    A symlink is followed: its target is replaced. An existing file keeps its
    permission bits; a new one gets the usual ``0o666`` less the umask. With
    ``backup_suffix`` an existing file is first copied next to it, its name
    plus the suffix (timestamps and permissions kept).
    On any failure the temporary file is removed, ``path`` is left as it was,
    and :class:`OutputError` names the path.
    """
    target = Path(os.path.realpath(path))
    temp = _temp_name(target)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            temp.chmod(mode)
        pause = os.environ.get(PAUSE_ENV)
        if pause:
            time.sleep(float(pause))
        if backup_suffix and mode is not None:
            shutil.copy2(target, target.with_name(target.name + backup_suffix))
        temp.replace(target)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise
    # Makes the rename itself durable; the new file is complete either way.
    with contextlib.suppress(OSError):
        _fsync_directory(target.parent)
