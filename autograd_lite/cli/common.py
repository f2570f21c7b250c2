"""What the commands share: :class:`CommandError`, ``--out`` handling, argument types.

A command reports a problem the user can fix by raising :class:`CommandError`;
``main`` prints it in one line on stderr and exits 2, with no traceback.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_OUT = "autograd-lite-out"

# What each command module's ``register(sub)`` receives: ``parser.add_subparsers()``.
Subparsers = argparse._SubParsersAction


class CommandError(Exception):
    """A problem the user can fix (bad input, unwritable file): reported in one line, exit 2."""


class Terminated(BaseException):
    """SIGTERM arrived while a command was writing: raised so that ``finally`` blocks clean up.

    ``main`` reports it in one line and exits 143 (128 + SIGTERM), as the signal would.
    """


def write_stdout(data: str | bytes) -> None:
    """Write to stdout: bytes as they are (whatever stdout's encoding), text in its encoding.

    A closed pipe (``... | head``) is not an error. A closed stdout (``>&-``) or one
    that cannot take the data (``>/dev/full``) raises CommandError.
    """
    stream = sys.stdout
    if stream is None:  # started with file descriptor 1 closed
        raise CommandError("cannot write to stdout: it is closed")
    try:
        if isinstance(data, bytes) and hasattr(stream, "buffer"):
            stream.flush()  # what was printed before goes first
            stream.buffer.write(data)
            stream.buffer.flush()
        else:
            stream.write(data.decode("utf-8") if isinstance(data, bytes) else data)
            stream.flush()
    except BrokenPipeError:
        silence_stdout()
    except (OSError, ValueError) as e:  # ValueError: "I/O operation on closed file"
        if isinstance(e, OSError):
            silence_stdout()  # the interpreter's last flush must not fail again
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise CommandError(f"cannot write to stdout: {reason}") from None


def failed_write(e: OSError) -> bool:
    """Whether ``e`` is a failed write to stdout or stderr (``> /dev/full``, a lost terminal).

    Commands turn the errors of the files they write into CommandError, naming
    the file; an OSError that escapes them without a file name and with one of
    these errno values comes from ``print``.
    """
    return e.filename is None and e.errno in (errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT)


def silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def output_dir(text: str) -> Path:
    """``--out``: create the directory if needed and make sure a file can be written in it."""
    out = Path(text)
    if not text:
        raise CommandError("argument --out: expected a directory name, got ''")
    if out.exists() and not out.is_dir():
        raise CommandError(f"argument --out: {text} is a file, not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".autograd-lite-", suffix=".tmp", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise CommandError(f"argument --out: cannot write to {text}: {e.strerror or e}") from None
    return out


class OutputFolder:
    """``--out`` of ``demo`` and ``train``, claimed for one run: see :func:`claim_output_dir`.

    ``path`` is the folder as the user named it; :meth:`staging` is an empty
    folder beside it for the run's files; :meth:`commit` swaps the two, so the
    folder holds the complete new set of files in one step.
    """

    def __init__(self, path: Path, staging: Path, outputs: Collection[str]) -> None:
        self.path = path
        self._staging = staging
        self._outputs = set(outputs)

    def staging(self) -> Path:
        """The folder that becomes ``path`` at :meth:`commit`; write every file into it."""
        return self._staging

    def commit(self) -> None:
        """Replace ``path``'s files by the staging folder's, all at once.

        The folder's other files (not an output's name) are carried over first,
        as hard links (a copy where the file system has none), so they stay.
        An output that this run did not write (a decision boundary for 64-D
        data) does not stay beside the new model.
        """
        from ..files import swap_directories

        real = self.path.resolve()
        try:
            for entry in _others(real, self._outputs):
                target = self._staging / entry.name
                if entry.is_symlink():
                    os.symlink(os.readlink(entry), target)
                    continue
                try:
                    os.link(entry, target)
                except OSError:
                    shutil.copy2(entry, target)
            swap_directories(self._staging, real)
        except OSError as e:
            raise CommandError(f"cannot write {self.path}: {e.strerror or e}") from None


def _others(folder: Path, outputs: Collection[str]) -> list[Path]:
    """The entries of ``folder`` that are not outputs (nor a killed run's leftovers)."""
    return [
        p
        for p in folder.iterdir()
        if p.name not in outputs and not p.name.startswith(".autograd-lite-")
    ]


def _stale_name(path: Path) -> str:
    """The prefix of the staging folders that runs writing ``path`` make beside it."""
    return f".{path.name}.autograd-lite-"


@contextmanager
def claim_output_dir(text: str, outputs: Collection[str]) -> Iterator[OutputFolder]:
    """``--out`` for one run: checked, created, locked, with a staging folder beside it.

    The run's files are written into the staging folder and swapped in at once
    (:meth:`OutputFolder.commit`): a reader, or a run killed at any instant,
    sees all the old files or all the new ones. The folder may hold other
    files (they stay), but no folder of its own, and it may not be the current
    directory (the swap would leave the shell in the old one). A second run on
    the same folder while this one holds it fails at once (CommandError, one
    line). SIGTERM ends the run through ``finally``: no staging folder or
    temporary file is left. ``outputs`` are the names a run writes.
    """
    from ..files import DirectoryBusyError, lock_directory

    out = output_dir(text)
    real = out.resolve()
    here = Path.cwd().resolve()
    if real == here or real in here.parents:
        raise CommandError(
            f"argument --out: {text} is the current directory (or holds it); the run swaps "
            "in a new folder, so name a folder below it (e.g. --out autograd-lite-out)"
        )
    folders = sorted(p.name for p in _others(real, outputs) if not _carried(p))
    if folders:
        shown = ", ".join(folders[:3]) + (", …" if len(folders) > 3 else "")
        raise CommandError(
            f"argument --out: {text} holds folders or special files ({shown}); the run swaps in "
            "a new folder with its files, so name a folder of plain files or a new one"
        )
    try:
        with lock_directory(real):
            for stale in real.parent.glob(_stale_name(real) + "*"):  # left by a killed run
                shutil.rmtree(stale, ignore_errors=True)
            try:
                staging = Path(tempfile.mkdtemp(prefix=_stale_name(real), dir=real.parent))
            except OSError as e:
                raise CommandError(
                    f"argument --out: cannot write beside {text} (the new files are built in a "
                    f"folder next to it): {e.strerror or e}"
                ) from None
            try:
                os.chmod(staging, real.stat().st_mode & 0o7777)  # mkdtemp's is 0o700
                with _sigterm_raises():
                    yield OutputFolder(out, staging, outputs)
            finally:
                shutil.rmtree(staging, ignore_errors=True)  # after a commit: the old files
    except DirectoryBusyError:
        raise CommandError(
            f"argument --out: another autograd-lite run is writing to {text}; wait for it to "
            "finish or choose another --out"
        ) from None


def _carried(entry: Path) -> bool:
    """Whether a commit can carry ``entry`` over: a plain file or a symbolic link."""
    return entry.is_symlink() or entry.is_file()


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` (in the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--out DIR`` and ``--no-progress``, shared by ``demo`` and ``train``."""
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=DEFAULT_OUT,
        help=f"output directory (default: {DEFAULT_OUT})",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


# Argument types: each raises ArgumentTypeError saying what is wrong; argparse exits 2.


def checked(convert: Callable[[str], Any], ok: Callable[[Any], bool], expected: str) -> Any:
    """An argparse type: ``convert(text)`` that must satisfy ``ok``, else says ``expected``."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


# The largest sizes train accepts: beyond them a run cannot finish on a laptop (hours, or
# more memory than it has). train also bounds their product; see cli/train.py.
MAX_POINTS = 100_000
MAX_EPOCHS = 100_000
MAX_WIDTH = 1_000  # neurons in one hidden layer
MAX_LAYERS = 10  # hidden layers


def at_most(parse: Callable[[str], Any], limit: int, unit: str) -> Callable[[str], Any]:
    """``parse``, then refuse a number above ``limit`` saying that it is the limit."""

    def bounded(text: str) -> Any:
        value = parse(text)
        if value > limit:
            raise argparse.ArgumentTypeError(
                f"at most {limit:,} {unit} (a larger run cannot finish on a laptop), got {text!r}"
            )
        return value

    return bounded


positive_int = checked(int, lambda n: n >= 1, "a positive integer")
points = at_most(checked(int, lambda n: n >= 10, "at least 10 points"), MAX_POINTS, "points")
epochs = at_most(positive_int, MAX_EPOCHS, "epochs")
seed = checked(int, lambda n: n >= 0, "an integer ≥ 0")
learning_rate = checked(float, lambda x: math.isfinite(x) and x > 0.0, "a positive number")
fraction = checked(float, lambda x: 0.0 <= x < 1.0, "a fraction in [0, 1)")


def layer_sizes(text: str) -> list[int]:
    """``16,16`` → [16, 16]: comma-separated positive layer sizes."""
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdecimal() and int(p) >= 1 for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive layer sizes such as 16,16, got {text!r}"
        )
    sizes = [int(p) for p in parts]
    if len(sizes) > MAX_LAYERS or max(sizes) > MAX_WIDTH:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_LAYERS} hidden layers of at most {MAX_WIDTH:,} neurons each "
            f"(a larger model cannot train on a laptop), got {text!r}"
        )
    return sizes
