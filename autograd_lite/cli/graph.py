"""``autograd-lite graph``: draw the computation graph of an expression."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..expr import FUNCTIONS
from .common import CommandError, Subparsers, positive_int, write_stdout

# The functions EXPR may call, as `graph --help` lists them: "exp log ... max(a, b) ...".
FUNCTION_LIST = " ".join(f"{name}(a, b)" if n == 2 else name for name, (n, _) in FUNCTIONS.items())


def cmd_graph(args: argparse.Namespace) -> int:
    """Parse EXPR with the NAME=VALUE bindings, run backward, draw the graph to -o FILE."""
    import viz

    from ..expr import ExpressionError, parse_bindings, parse_expression
    from ..value import detect_anomaly, topological_order

    to_stdout = args.output == "-"
    try:
        env = parse_bindings(args.bindings)
        fmt = "svg" if to_stdout else viz.output_format(args.output)
        root = parse_expression(args.expression, env)
    except (ExpressionError, ValueError) as e:  # ValueError: output_format's unknown suffix
        raise CommandError(str(e)) from None
    used = {v.label for v in topological_order(root) if not v.parents}
    for name, value in env.items():
        if name not in used:
            print(
                f"autograd-lite: warning: {name}={value:g} is not used: "
                f"{name} does not appear in the expression",
                file=sys.stderr,
            )
    try:
        with detect_anomaly():  # as for the forward pass: an inf or NaN is an error, not a picture
            root.backward()
    except FloatingPointError as e:
        reason = str(e).removesuffix(" (detect_anomaly)")
        raise CommandError(
            f"cannot draw {args.expression!r} at these values: backward gives an infinite "
            f"or NaN gradient ({reason})"
        ) from None
    options = {"rankdir": args.rankdir, "precision": args.precision}
    if fmt == "html":
        if args.no_grad or args.number_backward:
            raise CommandError(
                "--no-grad and --number-backward draw a still picture; "
                "the .html player shows the gradients step by step"
            )
    else:
        options.update(show_grad=not args.no_grad, number_backward=args.number_backward)
    try:
        data = viz.render_bytes(root, fmt, **options)
    except viz.DotNotFoundError as e:
        raise CommandError(f"{e} (-o FILE.dot writes DOT text without it)") from None
    if to_stdout:
        write_stdout(data)  # UTF-8 bytes, whatever stdout's encoding
        return 0
    path = Path(args.output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # like train --out
        viz.atomic_write(path, data)
    except OSError as e:
        raise CommandError(f"cannot write {args.output}: {e.strerror or e}") from None
    print(f"wrote {args.output}")
    return 0


class _ExpressionParser(argparse.ArgumentParser):
    """graph's parser: an argument starting with ``-`` that is none of its options is EXPR.

    So ``graph '-x**2' x=3 -o a.svg`` works without ``--``: ``-x**2`` is not an
    option of ``graph`` (its short options are -h and -o), so it is an expression.
    """

    def _parse_optional(self, arg_string: str) -> Any:
        if (
            len(arg_string) > 1
            and arg_string[0] == "-"
            and arg_string[1] != "-"
            and arg_string[:2] not in self._option_string_actions
        ):
            return None  # a positional argument
        return super()._parse_optional(arg_string)


def register(sub: Subparsers) -> None:
    """Add the ``graph`` command."""
    graph = sub.add_parser(
        "graph",
        help="draw the computation graph of an expression",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Build EXPR from Values (one per NAME, labelled with it), run backward and\n"
            "draw the graph with each node's data and grad. A FILE.html is a player that\n"
            "steps through the forward and backward pass (open it in any browser).\n\n"
            "EXPR may use numbers, names, + - * / **, parentheses and the functions\n"
            f"{FUNCTION_LIST}. Nothing else is accepted, and\n"
            "nothing is evaluated by Python."
        ),
        epilog=(
            "example:\n"
            "  autograd-lite graph 'tanh(x*w + b)' x=0.5 w=-3 b=2 -o neuron.svg\n"
            "  autograd-lite graph 'tanh(x*w + b)' x=0.5 w=-3 b=2 -o neuron.html\n"
            "  autograd-lite graph '-x**2' x=3 -o - > square.svg"
        ),
    )
    graph.__class__ = _ExpressionParser  # EXPR may start with a minus
    graph.add_argument("expression", metavar="EXPR", help="for example 'tanh(x*w + b)'")
    graph.add_argument(
        "bindings", metavar="NAME=VALUE", nargs="*", help="a value for each name in EXPR"
    )
    graph.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        required=True,
        help=(
            "where to draw: .svg .png .pdf .dot, or .html for the step-through player "
            "(format from the suffix); - for SVG on stdout"
        ),
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
    graph.add_argument(
        "--precision",
        type=positive_int,
        default=4,
        metavar="N",
        help="significant digits of the numbers (default 4; a nonzero never reads as 0)",
    )
    graph.set_defaults(func=cmd_graph)
