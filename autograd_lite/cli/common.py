"""What the commands share: :class:`CommandError`, ``--out`` handling, argument types.

A command reports a problem the user can fix by raising :class:`CommandError`;
``main`` prints it in one line on stderr and exits 2, with no traceback.
"""

from __future__ import annotations

import argparse
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


def write_stdout(text: str) -> None:
    """Write to stdout; a closed pipe (``... | head``) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()


def silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


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


positive_int = checked(int, lambda n: n >= 1, "a positive integer")
points = checked(int, lambda n: n >= 10, "at least 10 points")
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
    return [int(p) for p in parts]
