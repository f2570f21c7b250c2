"""What the commands share: :class:`CommandError`, ``--out`` handling, argument types.

A command reports a problem the user can fix by raising :class:`CommandError`;
``main`` prints it in one line on stderr and exits 2, with no traceback.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_OUT = "autograd-lite-out"

# What each command module's ``register(sub)`` receives: ``parser.add_subparsers()``.
Subparsers = argparse._SubParsersAction


class CommandError(Exception):
    """A problem the user can fix (bad input, unwritable file): reported in one line, exit 2."""


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
