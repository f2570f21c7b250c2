"""The ``autograd-lite`` command line.

Subcommands are added as the project grows; each one is a function
``cmd_NAME(args) -> int`` registered in ``build_parser``. A command reports a
problem the user can fix by raising :class:`CommandError`: ``main`` prints
``autograd-lite: error: ...`` on stderr and returns 2, with no traceback.
This is the only module of the engine that reaches into ``nn`` and ``viz``;
it imports them inside the command functions, so the engine never needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


class CommandError(Exception):
    """A problem the user can fix (bad input, unwritable file): reported in one line, exit 2."""


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


def cmd_graph(args: argparse.Namespace) -> int:
    """Parse EXPR with the NAME=VALUE bindings, run backward, draw the graph to -o FILE."""
    import viz

    from .expr import ExpressionError, parse_bindings, parse_expression

    to_stdout = args.output == "-"
    try:
        env = parse_bindings(args.bindings)
        fmt = "svg" if to_stdout else viz.output_format(args.output)
        root = parse_expression(args.expression, env)
    except (ExpressionError, ValueError) as e:  # ValueError: output_format's unknown suffix
        raise CommandError(str(e)) from None
    root.backward()
    options = {
        "rankdir": args.rankdir,
        "show_grad": not args.no_grad,
        "number_backward": args.number_backward,
    }
    try:
        data = viz.render_bytes(root, fmt, **options)
    except viz.DotNotFoundError as e:
        raise CommandError(f"{e} (-o FILE.dot writes DOT text without it)") from None
    if to_stdout:
        _write_stdout(data.decode("utf-8"))
        return 0
    try:
        viz.atomic_write(args.output, data)
    except OSError as e:
        raise CommandError(f"cannot write {args.output}: {e.strerror or e}") from None
    return 0


def _write_stdout(text: str) -> None:
    """Write to stdout; a closed pipe (``... | head``) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _add_graph(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    graph = sub.add_parser(
        "graph",
        help="draw the computation graph of an expression",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Build EXPR from Values (one per NAME, labelled with it), run backward and\n"
            "draw the graph with each node's data and grad.\n\n"
            "EXPR may use numbers, names, + - * / **, parentheses and the functions\n"
            "exp log tanh sigmoid relu and max(a, b). Nothing else is accepted, and\n"
            "nothing is evaluated by Python."
        ),
        epilog=(
            "example:\n"
            "  autograd-lite graph 'tanh(x*w + b)' x=0.5 w=-3 b=2 -o neuron.svg\n"
            "  autograd-lite graph -o - -- '-x**2' x=3     (-- before an EXPR starting with -)"
        ),
    )
    graph.add_argument("expression", metavar="EXPR", help="for example 'tanh(x*w + b)'")
    graph.add_argument(
        "bindings", metavar="NAME=VALUE", nargs="*", help="a value for each name in EXPR"
    )
    graph.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        required=True,
        help="where to draw: .svg .png .pdf or .dot (format from the suffix); - for SVG on stdout",
    )
    graph.add_argument(
        "--rankdir",
        choices=("LR", "TB", "RL", "BT"),
        default="LR",
        help="direction of the drawing (default LR: left to right)",
    )
    graph.add_argument("--no-grad", action="store_true", help="hide the gradients")
    graph.add_argument(
        "--number-backward",
        action="store_true",
        help="number the nodes in the order backward visits them",
    )
    graph.set_defaults(func=cmd_graph)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-lite",
        description="Scalar reverse-mode automatic differentiation for learning backpropagation.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    example = sub.add_parser("example", help="run the README's engine example")
    example.set_defaults(func=cmd_example)
    _add_graph(sub)
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


if __name__ == "__main__":
    sys.exit(main())
