"""Files written whole or not at all: ``atomic_write``, the one writer nn and viz share.

``atomic_write(path, data)`` writes ``data`` to a new temporary file in the
target's directory, flushes it to disk, then renames it over the target
(``os.replace``, atomic on POSIX and Windows). A reader, or a process killed
half-way (a signal, a full disk), sees the old file or the complete new one,
never a mixture, and no temporary file is left behind on an error.

- A symbolic link is written *through*: the file it points to is replaced,
  the link stays a link (as ``open(path, "w")`` would do).
- An existing file keeps its permission bits; a new one gets 0o666 minus the
  umask, like any file a program creates (``mkstemp`` would give 0o600).

A set of files that belong together (train's pictures and model) is replaced
whole by building the new set in a folder beside the old one and swapping the
two folders: ``swap_directories(new, target)`` exchanges them in one system
call (``renameat2(RENAME_EXCHANGE)`` on Linux, ``renamex_np(RENAME_SWAP)`` on
macOS), so a reader, or a process killed at any instant, sees the old set or
the new one, never a mixture. ``lock_directory(path)`` claims a folder for one
process (``flock``), so two writers cannot interleave.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

__all__ = [
    "DirectoryBusyError",
    "atomic_write",
    "lock_directory",
    "swap_directories",
    "write_target",
]


def write_target(path: str | os.PathLike[str]) -> Path:
    """The file that writing ``path`` replaces: ``path`` itself, or where its symlinks lead.

    A dangling link leads to the file it names (which the write then creates).
    """
    target = Path(path)
    if target.is_symlink():
        return Path(os.path.realpath(target))
    return target


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file + ``os.replace``).

    Raises OSError (the target is untouched) if the directory is missing or
    unwritable, the disk is full, or ``path`` is a directory.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"atomic_write: data must be bytes, got {type(data).__name__}")
    target = write_target(path)
    mode = _existing_mode(target)
    temporary: Path | None = None  # the name we are creating, or have created
    try:
        while True:
            temporary = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
            try:
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                break
            except FileExistsError:  # another writer's name (1 in 2**48): not ours to remove
                temporary = None
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        if temporary is not None:
            with suppress(FileNotFoundError):
                os.unlink(temporary)
        raise


def _existing_mode(target: Path) -> int | None:
    """The permission bits of the regular file at ``target``, None if there is none."""
    try:
        st = target.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "Is a directory", os.fspath(target))
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


# ---- a folder of files replaced at once ---------------------------------------------------


class DirectoryBusyError(OSError):
    """Another process holds the folder (:func:`lock_directory`)."""


@contextmanager
def lock_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive ``flock`` on the folder ``path`` while the block runs.

    Raises DirectoryBusyError at once (no waiting) if another process holds it.
    The lock is on the folder itself, so it needs no lock file; it is released
    when the block ends or the process dies (even by SIGKILL). Where ``flock``
    does not exist (Windows) the block runs unlocked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield Path(path)
        return
    folder = Path(path)
    for _ in range(10):  # the folder may be swapped between open and flock: then again
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DirectoryBusyError(
                errno.EBUSY, "in use by another process", str(folder)
            ) from None
        try:
            same = os.stat(folder).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    else:  # pragma: no cover - swapped ten times in a row
        raise DirectoryBusyError(errno.EBUSY, "in use by another process", str(folder))
    try:
        yield folder
    finally:
        os.close(fd)  # releases the lock


_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 2  # macOS stdio.h
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` in one system call; False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if sys.platform.startswith("linux"):
            call = libc.renameat2
            result = call(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
        elif sys.platform == "darwin":
            result = libc.renamex_np(os.fsencode(a), os.fsencode(b), _RENAME_SWAP)
        else:
            return False
    except (AttributeError, OSError):  # no such function in this C library
        return False
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # a file system that cannot exchange
    raise OSError(code, os.strerror(code), os.fspath(b))


def swap_directories(new: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Put the folder ``new`` at ``target``; the old ``target`` ends up at ``new``.

    Both must be folders on the same file system. The swap is one atomic step
    where the system can exchange two names (Linux ≥ 3.15, macOS); elsewhere
    it is two renames (``target`` → a hidden name, ``new`` → ``target``, the
    old folder then moved to ``new``), and ``target`` is missing for that
    instant. The caller deletes the old folder, now at ``new``.
    """
    new, target = Path(new), Path(target)
    if _exchange(new, target):
        return
    aside = target.parent / f".{target.name}.{secrets.token_hex(6)}.old"
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(aside, target)
        raise
    os.rename(aside, new)
