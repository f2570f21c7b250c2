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
"""

from __future__ import annotations

import os
import secrets
import stat
from contextlib import suppress
from pathlib import Path

__all__ = ["atomic_write", "write_target"]


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
