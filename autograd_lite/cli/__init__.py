"""The ``autograd-lite`` command line: one module per command, the parser assembled here.

- ``demo`` and ``train`` (:mod:`.train`): train an MLP on a toy data set, write the
  pictures and the model into ``--out``; ``demo`` also runs ``check``;
- ``check`` (:mod:`.check`): each built-in derivation, closed form against the engine;
- ``graph`` (:mod:`.graph`): draw the computation graph of an expression;
- ``verify`` (:mod:`.verify`): check a hand-derived derivative of an expression.

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

from . import check, graph, train, verify
from .check import print_check
from .common import CommandError, silence_stdout
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
]

# The commands in the order ``--help`` lists them.
COMMANDS = (train, check, graph, verify)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every command module registers its subparsers here."""
    parser = argparse.ArgumentParser(
        prog="autograd-lite",
        description="Scalar reverse-mode automatic differentiation for learning backpropagation.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``autograd-lite`` console script."""
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
    except BrokenPipeError:  # stdout closed early (``autograd-lite check | head``): not an error
        silence_stdout()
        return 0


if __name__ == "__main__":
    sys.exit(main())
