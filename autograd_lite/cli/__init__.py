"""The ``autograd-lite`` command line: one module per command, the parser assembled here.

- ``demo`` and ``train`` (:mod:`.train`): train an MLP on a toy data set, write the
  pictures and the model into ``--out``; ``demo`` also runs ``check``;
- ``check`` (:mod:`.check`): each built-in derivation, closed form against the engine;
- ``graph`` (:mod:`.graph`): draw the computation graph of an expression;
- ``verify`` (:mod:`.verify`): check a hand-derived derivative of an expression;
- ``playground`` (:mod:`.playground`): train a network live in the browser (a local web app).

Each command module has ``register(sub)``, which adds its subparser and sets
``func`` to a function ``cmd_NAME(args) -> int``. A command reports a problem the
user can fix by raising :class:`CommandError`: ``main`` prints
``autograd-lite: error: ...`` on stderr and returns 2, with no traceback.
This is the only package of the engine that reaches into ``nn`` and ``viz``; the
commands import them inside their functions, so the engine never needs them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from . import check, graph, playground, train, verify
from .check import print_check
from .common import CommandError, Terminated, failed_write, silence_stdout
from .train import ACTIVATIONS, DATASETS, DEMO, OUTPUTS, neuron_example

__all__ = [
    "ACTIVATIONS",
    "DATASETS",
    "DEMO",
    "OUTPUTS",
    "CommandError",
    "build_parser",
    "main",
    "neuron_example",
    "print_check",
    "version",
]

# The commands in the order ``--help`` lists them.
COMMANDS = (train, check, graph, verify, playground)

DISTRIBUTION = "autograd-lite"


def version() -> str:
    """The installed distribution's version (its metadata), or ``autograd_lite.__version__``
    when the package runs from a source tree that was never installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as metadata_version

    try:
        return metadata_version(DISTRIBUTION)
    except PackageNotFoundError:
        from .. import __version__

        return __version__


class _VersionAction(argparse.Action):
    """``--version``: print ``autograd-lite X.Y.Z`` and exit; the metadata is read only then."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"{parser.prog} {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every command module registers its subparsers here."""
    parser = argparse.ArgumentParser(
        prog="autograd-lite",
        description="Scalar reverse-mode automatic differentiation for learning backpropagation.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``autograd-lite`` console script."""
    for stream in (sys.stdout, sys.stderr):
        # A console that cannot show σ or ≠ (Windows' cp1252) gets \u03c3, not a traceback.
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # argparse has printed the usage and its error, or --help
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    try:
        return args.func(args)
    except CommandError as e:
        print(f"autograd-lite: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autograd-lite: interrupted", file=sys.stderr)
        return 130
    except Terminated:  # SIGTERM in demo or train: its staging files were removed on the way
        print("autograd-lite: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:  # stdout closed early (``autograd-lite check | head``): not an error
        silence_stdout()
        return 0
    except OSError as e:  # stdout full (``> /dev/full``)? Then one line, not a traceback.
        if not failed_write(e):
            raise
        silence_stdout()
        print(f"autograd-lite: error: cannot write to stdout: {e.strerror or e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
