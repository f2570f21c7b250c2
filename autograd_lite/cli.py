"""The ``autograd-lite`` command line: ``demo``, ``train``, ``check`` and ``graph``.

- ``demo``: train an MLP on three spirals, check every derivation of MATH.md,
  write the pictures and the model into ``--out``;
- ``train``: the same training with every setting on the command line;
- ``check``: each derivation of MATH.md, closed form against the engine;
- ``graph``: draw the computation graph of an expression;

Each subcommand is a function
``cmd_NAME(args) -> int`` registered in ``build_parser``. A command reports a
problem the user can fix by raising :class:`CommandError`: ``main`` prints
``autograd-lite: error: ...`` on stderr and returns 2, with no traceback.
This is the only module of the engine that reaches into ``nn`` and ``viz``;
it imports them inside the command functions, so the engine never needs them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class CommandError(Exception):
    """A problem the user can fix (bad input, unwritable file): reported in one line, exit 2."""


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


# ---------------------------------------------------------------------------------------
# demo, train, check: a network trained on a toy data set, and the derivations of MATH.md

# The choices of train's options. nn is imported only when a command runs, so these are
# spelled out here; tests check that they match nn.data.DATASETS and nn.ACTIVATIONS.
DATASETS = ("moons", "spirals", "blobs")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
OPTIMIZERS = ("adam", "sgd")
DEFAULT_LR = {"adam": 0.01, "sgd": 0.1}
SGD_MOMENTUM = 0.9
DEFAULT_OUT = "autograd-lite-out"

# What ``demo`` trains: 3 spiral arms, 200 points, an MLP 2-16-16-3 with Adam.
# About 20 s on one core, ≥ 95% training accuracy (98% with seed 0).
DEMO = {
    "dataset": "spirals",
    "points": 200,
    "hidden": [16, 16],
    "activation": "relu",
    "optimizer": "adam",
    "lr": 0.02,
    "epochs": 150,
    "batch_size": 32,
    "seed": 0,
}

# The files that demo and train write into --out.
OUTPUTS = ("decision_boundary.png", "loss.png", "neuron_graph.svg", "model.json")


def cmd_demo(args: argparse.Namespace) -> int:
    """Train on the spirals, run ``check``, write the pictures and the model."""
    settings = {**DEMO, "points": args.points or DEMO["points"]}
    settings["epochs"] = args.epochs or DEMO["epochs"]
    out = _output_dir(args.out)
    print(
        "autograd-lite demo: an MLP learns to tell 3 interleaved spirals apart, trained with\n"
        "softmax cross-entropy and Adam; every gradient comes from backward on scalar Values."
    )
    accuracy = _train_and_write(settings, out, progress=not args.no_progress)
    ok = True
    if not args.no_check:
        print()
        ok = _print_check()
    print()
    print(f"accuracy: {accuracy:.3f}")
    return 0 if ok else 1


def cmd_train(args: argparse.Namespace) -> int:
    """Train an MLP with the command line's settings and write the pictures and the model."""
    settings = {
        "dataset": args.dataset,
        "points": args.points,
        "hidden": args.hidden,
        "activation": args.activation,
        "optimizer": args.optimizer,
        "lr": args.lr if args.lr is not None else DEFAULT_LR[args.optimizer],
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
    }
    out = _output_dir(args.out)
    accuracy = _train_and_write(settings, out, progress=not args.no_progress)
    print(f"accuracy: {accuracy:.3f}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Print each derivation of MATH.md, closed form against automatic; 1 if any fails."""
    return 0 if _print_check() else 1


def _train_and_write(settings: dict[str, Any], out: Path, *, progress: bool) -> float:
    """Train as ``settings`` say, write OUTPUTS into ``out``; return the training accuracy."""
    import nn

    X, y = nn.data.DATASETS[settings["dataset"]](settings["points"], seed=settings["seed"])
    classes = int(y.max()) + 1
    sizes = [*settings["hidden"], classes]
    model = nn.MLP(2, sizes, settings["activation"], seed=settings["seed"])
    if settings["optimizer"] == "adam":
        optimizer = nn.optim.Adam(model.parameters(), lr=settings["lr"])
    else:
        optimizer = nn.optim.SGD(model.parameters(), lr=settings["lr"], momentum=SGD_MOMENTUM)
    shape = "-".join(str(n) for n in [2, *sizes])
    print(
        f"{settings['dataset']}: {len(X)} points, {classes} classes; "
        f"MLP {shape} ({settings['activation']}), {settings['optimizer']} lr={settings['lr']:g}, "
        f"{settings['epochs']} epochs, batches of {settings['batch_size']}, "
        f"seed {settings['seed']}",
        flush=True,
    )
    start = time.perf_counter()
    history = nn.train.fit(
        model,
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=optimizer,
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        progress=progress,
        seed=settings["seed"],
    )
    seconds = time.perf_counter() - start
    loss, accuracy = nn.train.evaluate(model, X, y)
    print(f"trained in {seconds:.1f} s: final loss {loss:.4f}, training accuracy {accuracy:.1%}")
    _write_outputs(model, X, y, history, out)
    return accuracy


def _write_outputs(model: Any, X: Any, y: Any, history: Any, out: Path) -> None:
    """The decision boundary, the loss curve, a neuron's graph and the model, into ``out``.

    Every file is written atomically (a temporary file in ``out``, then
    ``os.replace``), so an existing file is replaced whole or not at all.
    """
    import nn
    import viz
    from viz.plots import plot_decision_boundary, plot_loss

    writers = {
        "decision_boundary.png": lambda path: plot_decision_boundary(model, X, y, path),
        "loss.png": lambda path: plot_loss(history, path),
        "neuron_graph.svg": lambda path: viz.save(neuron_example(), path),
        "model.json": lambda path: nn.save(model, path),
    }
    for name in OUTPUTS:
        path = out / name
        try:
            writers[name](path)
        except viz.DotNotFoundError as e:
            print(f"autograd-lite: warning: skipped {path}: {e}", file=sys.stderr)
            continue
        except OSError as e:
            raise CommandError(f"cannot write {path}: {e.strerror or e}") from None
        print(f"wrote {path}")


def neuron_example() -> Any:
    """One tanh neuron, o = tanh(x1·w1 + x2·w2 + b), after ``o.backward()``.

    The numbers of micrograd's lecture: b is chosen so that n = 0.8814 and
    o = tanh(n) = √2/2, hence do/dn = 1 − o² = 0.5.
    """
    from .value import Value

    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.881373587019543, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def _print_check() -> bool:
    """Print the table of derivations; True if every one agrees within tolerance."""
    from nn import derivations

    entries = list(derivations.REGISTRY)
    print(f"check: the {len(entries)} derivations of MATH.md, closed form (NumPy) vs backward")
    rows = []  # (section, title, max |error| as text, ok, why it could not be computed)
    for entry in entries:
        try:
            row = derivations.check(entry)
            rows.append((row.section, row.title, f"{row.max_abs_error:.1e}", row.ok, ""))
        except Exception as e:  # a broken entry is a failed check, reported on its row
            rows.append((entry.section, entry.title, "error", False, f"{type(e).__name__}: {e}"))
    width = max((len(title) for _, title, *_ in rows), default=10)
    print(f"{'§':3}  {'derivation':<{width}}  {'max |error|':>11}  result")
    for section, title, error, ok, why in rows:
        print(f"{section:3}  {title:<{width}}  {error:>11}  {'ok' if ok else 'FAIL'}")
        if why:
            print(f"{'':5}{why}")
    failed = sum(not row[3] for row in rows)
    if failed:
        print(f"{failed} of {len(rows)} derivations FAIL (tolerance {derivations.TOLERANCE:g})")
    else:
        print(f"all {len(rows)} derivations ok (tolerance {derivations.TOLERANCE:g})")
    return failed == 0


def _output_dir(text: str) -> Path:
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


# Argument types: each raises ArgumentTypeError saying what is wrong; argparse exits 2.


def _checked(convert: Any, ok: Any, expected: str) -> Any:
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


_positive_int = _checked(int, lambda n: n >= 1, "a positive integer")
_points = _checked(int, lambda n: n >= 10, "at least 10 points")
_seed = _checked(int, lambda n: n >= 0, "an integer ≥ 0")
_learning_rate = _checked(float, lambda x: math.isfinite(x) and x > 0.0, "a positive number")


def _layer_sizes(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdecimal() and int(p) >= 1 for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive layer sizes such as 16,16, got {text!r}"
        )
    return [int(p) for p in parts]


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--out DIR`` and ``--no-progress``, shared by ``demo`` and ``train``."""
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=DEFAULT_OUT,
        help=f"output directory (default: {DEFAULT_OUT})",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_training(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    outputs = ", ".join(OUTPUTS)
    demo = sub.add_parser(
        "demo",
        help="train a network on 3 spirals, check every derivation, draw the pictures",
        description=(
            "Train an MLP 2-16-16-3 on 200 points of 3 spirals with softmax cross-entropy "
            "and Adam (about 20 s), print its accuracy, run `check`, and write "
            f"{outputs} into --out."
        ),
    )
    _add_output_options(demo)
    demo.add_argument("--no-check", action="store_true", help="skip the derivation checks")
    # Smaller runs, for the tests.
    demo.add_argument("--points", type=_points, help=argparse.SUPPRESS)
    demo.add_argument("--epochs", type=_positive_int, help=argparse.SUPPRESS)
    demo.set_defaults(func=cmd_demo)

    train = sub.add_parser(
        "train",
        help="train an MLP on a toy data set and draw its decision boundary",
        description=(
            "Train an MLP (softmax cross-entropy over the classes) on a 2-D toy data set "
            f"and write {outputs} into --out. Prints `accuracy: ...` (training accuracy) "
            "last; the progress bar goes to stderr."
        ),
        epilog="example: autograd-lite train --dataset spirals --hidden 32,32 --epochs 100",
    )
    train.add_argument(
        "--dataset", choices=DATASETS, default="moons", help="the data set (default: moons)"
    )
    train.add_argument(
        "--points", type=_points, default=200, metavar="N", help="data set size (default: 200)"
    )
    train.add_argument(
        "--hidden",
        type=_layer_sizes,
        default=[16, 16],
        metavar="SIZES",
        help="hidden layer sizes, comma-separated (default: 16,16)",
    )
    train.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default="relu",
        help="activation of the hidden layers (default: relu)",
    )
    train.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="adam",
        help=f"Adam, or SGD with momentum {SGD_MOMENTUM} (default: adam)",
    )
    defaults = ", ".join(f"{DEFAULT_LR[o]} for {o}" for o in OPTIMIZERS)
    train.add_argument(
        "--lr", type=_learning_rate, metavar="RATE", help=f"learning rate (default: {defaults})"
    )
    train.add_argument(
        "--epochs",
        type=_positive_int,
        default=40,
        metavar="N",
        help="passes over the data (default: 40)",
    )
    train.add_argument(
        "--batch-size",
        type=_positive_int,
        default=32,
        metavar="N",
        help="points per optimizer step (default: 32)",
    )
    train.add_argument(
        "--seed",
        type=_seed,
        default=0,
        metavar="N",
        help="seeds the data, the initial weights and the shuffling (default: 0)",
    )
    _add_output_options(train)
    train.set_defaults(func=cmd_train)

    check = sub.add_parser(
        "check",
        help="check every derivation of MATH.md against the engine",
        description=(
            "For each derivation of MATH.md, compute the gradient in closed form with NumPy "
            "and with backward on scalar Values, and print the largest absolute difference. "
            "Exit status 1 if any differs by more than the tolerance."
        ),
    )
    check.set_defaults(func=cmd_check)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-lite",
        description="Scalar reverse-mode automatic differentiation for learning backpropagation.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_training(sub)
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
    except KeyboardInterrupt:
        print("autograd-lite: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (``autograd-lite check | head``): not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
