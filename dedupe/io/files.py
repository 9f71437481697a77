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


def _keep_owner(fd: int, st: os.stat_result) -> None:
    """Give the open file ``fd`` the owner, group and permission bits of ``st``,
    as ``sed -i`` does: the owner and group where permitted (root; a member of
    the group), the mode always, last, because a change of owner clears the
    set-user-ID and set-group-ID bits."""
    if not hasattr(os, "fchown"):  # Windows: no owners, and no fchmod before 3.13
        return
    try:
        os.fchown(fd, st.st_uid, st.st_gid)
    except PermissionError:
        with contextlib.suppress(PermissionError):
            os.fchown(fd, -1, st.st_gid)
    os.fchmod(fd, stat.S_IMODE(st.st_mode))


def _backup(target: Path, backup: Path, *, overwrite: bool) -> None:
    """Make ``backup`` hold the current ``target``, all at once.

    A hard link: the original file itself under a second name, owner, mode and
    timestamps included, and no copy a kill could leave half-written. Where
    the file system has no hard links, a complete copy under a temporary name
    is renamed into place. An existing ``backup`` is replaced only with
    ``overwrite``; otherwise :class:`OutputError`.
    """
    temp = _temp_name(backup)
    try:
        try:
            os.link(target, temp)
        except OSError as exc:
            if isinstance(exc, FileExistsError):
                raise
            _copy(target, temp)
        if overwrite:
            temp.replace(backup)
            return
        try:
            # No-clobber: link fails when the name is taken, even by a racing writer.
            os.link(temp, backup)
        except FileExistsError:
            raise OutputError(
                f"{backup}: backup exists already (--overwrite-backup replaces it)"
            ) from None
        except OSError:
            if backup.exists():
                raise OutputError(
                    f"{backup}: backup exists already (--overwrite-backup replaces it)"
                ) from None
            temp.replace(backup)
    finally:
        temp.unlink(missing_ok=True)


def _copy(source: Path, temp: Path) -> None:
    st = source.stat()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f, source.open("rb") as src:
        shutil.copyfileobj(src, f)
        f.flush()
        os.fsync(f.fileno())
        _keep_owner(f.fileno(), st)
    shutil.copystat(source, temp)


def backup_path(path: Path, suffix: str) -> Path:
    """Where :func:`atomic_write` keeps the original of ``path`` for ``suffix``
    (next to the file a symlink points to)."""
    target = Path(os.path.realpath(path))
    return target.with_name(target.name + suffix)


def atomic_write(
    path: Path, data: bytes, *, backup_suffix: str | None = None, overwrite_backup: bool = False
) -> None:
    """Replace the file at ``path`` with ``data``, all at once or not at all.

    A symlink is followed: its target is replaced. An existing file keeps its
    owner and group where the process may set them (as ``sed -i``), and its
    permission bits; a new one gets the usual ``0o666`` less the umask. With
    ``backup_suffix`` an existing file is first kept next to it under its name
    plus the suffix (see :func:`backup_path`): the original file itself, so
    its owner, mode and timestamps too. An existing backup is an
    :class:`OutputError` (nothing written) unless ``overwrite_backup``.
    On any failure the temporary file is removed, ``path`` is left as it was,
    and :class:`OutputError` names the path.
    """
    target = Path(os.path.realpath(path))
    temp = _temp_name(target)
    try:
        old: os.stat_result | None = target.stat()
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if old is not None:
                _keep_owner(f.fileno(), old)
            os.fsync(f.fileno())
        if old is not None and not hasattr(os, "fchown"):
            temp.chmod(stat.S_IMODE(old.st_mode))
        pause = os.environ.get(PAUSE_ENV)
        if pause:
            time.sleep(float(pause))
        if backup_suffix and old is not None:
            _backup(target, backup_path(target, backup_suffix), overwrite=overwrite_backup)
        temp.replace(target)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise
    # Makes the rename itself durable; the new file is complete either way.
    with contextlib.suppress(OSError):
        _fsync_directory(target.parent)
