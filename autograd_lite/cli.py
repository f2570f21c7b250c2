"""The ``autograd-lite`` command line.

Subcommands are added as the project grows; each one is a function
``cmd_NAME(args) -> int`` registered in ``build_parser``. This is the only
module of the engine that reaches into ``nn`` and ``viz``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def cmd_example(args: argparse.Namespace) -> int:
    """The README's engine example: micrograd's expression, forward and backward."""
    from .value import Value

    a, b = Value(-4.0, label="a"), Value(2.0, label="b")
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    print(f"g = {g.data:.4f}, dg/da = {a.grad:.4f}, dg/db = {b.grad:.4f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-lite",
        description="Scalar reverse-mode automatic differentiation for learning backpropagation.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    example = sub.add_parser("example", help="run the README's engine example")
    example.set_defaults(func=cmd_example)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``autograd-lite`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
