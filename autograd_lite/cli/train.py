"""``autograd-lite demo`` and ``autograd-lite train``: a network trained on a toy data set.

``demo`` trains the fixed DEMO settings and then runs ``check``; ``train`` takes every
setting from the command line. Both write the pictures and the model into ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from . import common
from .check import print_check
from .common import CommandError, Subparsers

# The choices of train's options. nn is imported only when a command runs, so these are
# spelled out here; tests check that they match nn.data.DATASETS and nn.ACTIVATIONS.
DATASETS = ("moons", "spirals", "blobs")
# Real data sets (nn.data.load_<name>), with their own defaults: 20% held out, one hidden layer.
REAL_DATASETS = ("digits",)
REAL_DEFAULTS = {"test_fraction": 0.2, "hidden": [32]}
TOY_DEFAULTS = {"test_fraction": 0.0, "hidden": [16, 16], "points": 200}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
OPTIMIZERS = ("adam", "sgd")
DEFAULT_LR = {"adam": 0.01, "sgd": 0.1}
SGD_MOMENTUM = 0.9

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
    out = common.output_dir(args.out)
    print(
        "autograd-lite demo: an MLP learns to tell 3 interleaved spirals apart, trained with\n"
        "softmax cross-entropy and Adam; every gradient comes from backward on scalar Values."
    )
    accuracy = _train_and_write(settings, out, progress=not args.no_progress)
    ok = True
    if not args.no_check:
        print()
        ok = print_check()
    print()
    print(f"accuracy: {accuracy:.3f}")
    return 0 if ok else 1


def cmd_train(args: argparse.Namespace) -> int:
    """Train an MLP with the command line's settings and write the pictures and the model."""
    defaults = REAL_DEFAULTS if args.dataset in REAL_DATASETS else TOY_DEFAULTS
    settings = {
        "dataset": args.dataset,
        "points": args.points if args.points is not None else defaults.get("points"),
        "hidden": args.hidden or defaults["hidden"],
        "activation": args.activation,
        "optimizer": args.optimizer,
        "lr": args.lr if args.lr is not None else DEFAULT_LR[args.optimizer],
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "compile": args.compile,
        "test_fraction": (
            args.test_fraction if args.test_fraction is not None else defaults["test_fraction"]
        ),
    }
    out = common.output_dir(args.out)
    accuracy = _train_and_write(settings, out, progress=not args.no_progress)
    print(f"accuracy: {accuracy:.3f}")
    return 0


def _load(settings: dict[str, Any]) -> tuple[Any, Any]:
    """The data set's (X, y): a toy set of ``points`` points, or a real one (all of it,
    or a seeded sample of ``points`` rows)."""
    import numpy as np

    import nn

    name, points, seed = settings["dataset"], settings["points"], settings["seed"]
    if name not in REAL_DATASETS:
        return nn.data.DATASETS[name](points, seed=seed)
    try:
        X, y = getattr(nn.data, f"load_{name}")()
    except ImportError as e:
        raise CommandError(str(e)) from None
    if points is not None and points < len(X):
        keep = np.sort(np.random.default_rng(seed).permutation(len(X))[:points])
        X, y = X[keep], y[keep]
    return X, y


def _train_and_write(settings: dict[str, Any], out: Path, *, progress: bool) -> float:
    """Train as ``settings`` say, write OUTPUTS into ``out``; return the accuracy
    (on the held-out rows when ``test_fraction`` > 0, else on the training rows)."""
    import nn

    compiled = settings.get("compile", False)
    fraction = settings.get("test_fraction", 0.0)
    X, y = _load(settings)
    classes = int(y.max()) + 1
    X_test = y_test = None
    if fraction > 0:
        X, X_test, y, y_test = nn.data.train_test_split(
            X, y, test_fraction=fraction, seed=settings["seed"]
        )
    sizes = [*settings["hidden"], classes]
    model = nn.MLP(X.shape[1], sizes, settings["activation"], seed=settings["seed"])
    if settings["optimizer"] == "adam":
        optimizer = nn.optim.Adam(model.parameters(), lr=settings["lr"])
    else:
        optimizer = nn.optim.SGD(model.parameters(), lr=settings["lr"], momentum=SGD_MOMENTUM)
    shape = "-".join(str(n) for n in [X.shape[1], *sizes])
    held = f" ({len(X_test)} more held out)" if X_test is not None else ""
    print(
        f"{settings['dataset']}: {len(X)} points{held}, {classes} classes; "
        f"MLP {shape} ({settings['activation']}), {settings['optimizer']} lr={settings['lr']:g}, "
        f"{settings['epochs']} epochs, batches of {settings['batch_size']}, "
        f"seed {settings['seed']}" + (", compiled" if compiled else ""),
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
        compile=compiled,
    )
    seconds = time.perf_counter() - start
    loss, accuracy = nn.train.evaluate(model, X, y, compile=compiled)
    print(f"trained in {seconds:.1f} s: final loss {loss:.4f}, training accuracy {accuracy:.1%}")
    if X_test is not None:
        _, accuracy = nn.train.evaluate(model, X_test, y_test, compile=compiled)
        print(f"held-out accuracy: {accuracy:.3f}")
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
        if name == "decision_boundary.png" and X.shape[1] != 2:
            print(f"skipped {path}: the data have {X.shape[1]} features, the plot needs 2")
            continue
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
    from ..value import Value

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


def register(sub: Subparsers) -> None:
    """Add the ``demo`` and ``train`` commands."""
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
    common.add_output_options(demo)
    demo.add_argument("--no-check", action="store_true", help="skip the derivation checks")
    # Smaller runs, for the tests.
    demo.add_argument("--points", type=common.points, help=argparse.SUPPRESS)
    demo.add_argument("--epochs", type=common.positive_int, help=argparse.SUPPRESS)
    demo.set_defaults(func=cmd_demo)

    train = sub.add_parser(
        "train",
        help="train an MLP on a toy data set and draw its decision boundary",
        description=(
            "Train an MLP (softmax cross-entropy over the classes) on a 2-D toy data set "
            f"or on the 8×8 digits and write {outputs} into --out (no decision boundary "
            "for the digits: it is drawn for 2-D data only). Prints `accuracy: ...` last: "
            "the held-out accuracy when --test-fraction > 0, else the training accuracy; "
            "the progress bar goes to stderr."
        ),
        epilog="examples: autograd-lite train --dataset spirals --hidden 32,32 --epochs 100; "
        "autograd-lite train --dataset digits --compile",
    )
    train.add_argument(
        "--dataset",
        choices=DATASETS + REAL_DATASETS,
        default="moons",
        help="a 2-D toy set, or digits: scikit-learn's 8×8 digits, 64 features, 10 classes, "
        "1,797 images (needs the 'data' extra) (default: moons)",
    )
    train.add_argument(
        "--points",
        type=common.points,
        metavar="N",
        help="data set size (default: 200 for the toy sets, all 1,797 digits)",
    )
    train.add_argument(
        "--hidden",
        type=common.layer_sizes,
        metavar="SIZES",
        help="hidden layer sizes, comma-separated (default: 16,16; 32 for digits)",
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
        "--lr",
        type=common.learning_rate,
        metavar="RATE",
        help=f"learning rate (default: {defaults})",
    )
    train.add_argument(
        "--epochs",
        type=common.positive_int,
        default=40,
        metavar="N",
        help="passes over the data (default: 40)",
    )
    train.add_argument(
        "--batch-size",
        type=common.positive_int,
        default=32,
        metavar="N",
        help="points per optimizer step (default: 32)",
    )
    train.add_argument(
        "--seed",
        type=common.seed,
        default=0,
        metavar="N",
        help="seeds the data, the initial weights and the shuffling (default: 0)",
    )
    train.add_argument(
        "--test-fraction",
        type=common.fraction,
        metavar="F",
        help="hold out this seeded fraction of the data and report its accuracy last "
        "(default: 0.2 for digits, 0 for the toy sets)",
    )
    train.add_argument(
        "--compile",
        action="store_true",
        help="train through autograd_lite.compile: one sample's graph traced once and "
        "replayed over each batch with NumPy (same results, many times faster)",
    )
    common.add_output_options(train)
    train.set_defaults(func=cmd_train)
