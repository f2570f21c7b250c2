"""``autograd-lite demo`` and ``autograd-lite train``: a network trained on a toy data set.

``demo`` trains the fixed DEMO settings and then runs ``check``; ``train`` takes every
setting from the command line. Both write the pictures and the model into ``--out``.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import common
from .check import print_check
from .common import CommandError, Subparsers

# The choices of train's options. nn is imported only when a command runs, so these are
# spelled out here; tests check that they match nn.data.DATASETS and nn.ACTIVATIONS.
DATASETS = ("moons", "spirals", "blobs", "circles", "xor")
# Real data sets (nn.data.load_<name>), with their own defaults: 20% held out, one hidden layer.
REAL_DATASETS = ("digits",)
REAL_DEFAULTS = {"test_fraction": 0.2, "hidden": [32]}
TOY_DEFAULTS = {"test_fraction": 0.0, "hidden": [16, 16], "points": 200}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
OPTIMIZERS = ("adam", "sgd")
DEFAULT_LR = {"adam": 0.01, "sgd": 0.1}
SGD_MOMENTUM = 0.9

# What ``demo`` trains: 3 spiral arms of 1.5 turns, 300 points, an MLP 2-16-16-3 with Adam.
# ≥ 95% training accuracy (98.7% with seed 0). With compile (demo's default) the whole demo
# takes about 3 s, with --scalar about 25 s (`time autograd-lite demo [--scalar] --no-check`).
DEMO = {
    "dataset": "spirals",
    "points": 300,
    "hidden": [16, 16],
    "activation": "relu",
    "optimizer": "adam",
    "lr": 0.02,
    "epochs": 150,
    "batch_size": 32,
    "seed": 0,
}

# demo's check of compile: this many steps on the scalar engine and compiled give the same
# losses to this relative tolerance (rounding: the replay adds in another order).
CHECK_STEPS = 3
COMPILE_RTOL = 1e-9

# The files that demo and train write into --out.
OUTPUTS = (
    "decision_boundary.png",
    "loss.png",
    "network.html",
    "neuron_graph.svg",
    "backprop.html",
    "model.json",
)
# network.html's film keeps about this many floats of parameters (a snapshot every k-th epoch:
# the demo: 371 parameters, 150 epochs, a snapshot every 3rd epoch, a page of about 2.5 MB).
FILM_FLOATS = 20_000

# Beyond each option's own limit (common.MAX_*), a run's cost: points × parameters × epochs
# (each point visits each weight once forward and once backward per epoch; the demo's
# 300 × 371 × 150 = 1.7e7 trains in about 21 s on the scalar engine), and the Values one
# batch's graph holds (about 2 per weight per point: a product and a sum; 10 million take a
# few GB).
MAX_WORK = 2 * 10**9
MAX_GRAPH = 10**7
# Each data set's (inputs, classes, rows when fixed), for the size check before loading.
SHAPES = {"moons": (2, 2, None), "spirals": (2, 3, None), "blobs": (2, 3, None)}
SHAPES.update({"circles": (2, 2, None), "xor": (2, 2, None)})
SHAPES["digits"] = (64, 10, 1797)


def cmd_demo(args: argparse.Namespace) -> int:
    """Train on the spirals, run ``check``, write the pictures and the model, list them last."""
    settings = {**DEMO, "points": args.points or DEMO["points"]}
    settings["epochs"] = args.epochs or DEMO["epochs"]
    settings["compile"] = not args.scalar
    settings["check_steps"] = CHECK_STEPS if settings["compile"] else 0
    engine = (
        "on the scalar engine: a graph of Values and its backward for every point"
        if args.scalar
        else "with compile: one point's graph of Values traced once, replayed over each batch"
    )
    with common.claim_output_dir(args.out, OUTPUTS) as out:
        print(
            "autograd-lite demo: an MLP learns to tell 3 interleaved spirals apart, trained "
            f"with\nsoftmax cross-entropy and Adam, {engine}."
        )
        accuracy, written = _train_and_write(settings, out, progress=not args.no_progress)
    ok = True
    if not args.no_check:
        print()
        ok = print_check()
    print()
    print(f"accuracy: {accuracy:.3f}")
    print_outputs(out.path, written)
    return 0 if ok else 1


def cmd_train(args: argparse.Namespace) -> int:
    """Train an MLP with the command line's settings, write the pictures and the model."""
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
    check_size(settings)
    check_split(settings)
    with common.claim_output_dir(args.out, OUTPUTS) as out:
        accuracy, written = _train_and_write(settings, out, progress=not args.no_progress)
    print(f"accuracy: {accuracy:.3f}")
    print_outputs(out.path, written)
    return 0


def print_outputs(out: Path, written: list[tuple[str, str]]) -> None:
    """The files a run wrote, one line each (``written``: name, note), then where to start."""
    for name, note in written:
        print(f"wrote {out / name}{note}")
    if any(name == "backprop.html" for name, _ in written):
        print(f"open {out / 'backprop.html'} in a browser")


def check_size(settings: dict[str, Any]) -> None:
    """Refuse (CommandError) a run too long (MAX_WORK), too big in memory (MAX_GRAPH) or
    whose model nn.save could not write (nn.serialize.check_limits).

    Each option has its own limit already; this bounds their products, before
    anything is trained or written.
    """
    inputs, classes, rows = SHAPES[settings["dataset"]]
    sizes = [inputs, *settings["hidden"], classes]
    weights = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    points, epochs = settings["points"] or rows, settings["epochs"]
    work = points * weights * epochs
    if work > MAX_WORK:
        raise CommandError(
            f"this run is too long to finish on a laptop: {points:,} points × {weights:,} "
            f"parameters × {epochs:,} epochs = {work:,}, more than the limit {MAX_WORK:,}; "
            "use fewer --points, --epochs or a smaller --hidden"
        )
    graph = 2 * min(settings["batch_size"], points) * weights
    if graph > MAX_GRAPH:
        raise CommandError(
            f"one batch is too big for memory: {min(settings['batch_size'], points):,} points "
            f"× {weights:,} parameters make a graph of about {graph:,} Values, more than the "
            f"limit {MAX_GRAPH:,}; use a smaller --batch-size or --hidden"
        )
    import nn  # the limits of a model file: train never writes one that nn.load refuses

    config = {"type": "MLP", "nin": inputs, "nouts": sizes[1:], "activation": "relu"}
    try:
        nn.serialize.check_limits(config)
    except ValueError as e:
        raise CommandError(f"this model could not be saved: {e}; use a smaller --hidden") from None


def check_split(settings: dict[str, Any]) -> None:
    """Refuse (CommandError) a ``test_fraction`` that leaves no point to train on."""
    import nn

    _, _, rows = SHAPES[settings["dataset"]]
    points, fraction = settings["points"] or rows, settings["test_fraction"]
    held = nn.data.held_out_count(points, fraction)
    if held >= points:
        raise CommandError(
            f"argument --test-fraction: {fraction:g} of {points} points holds out {held} "
            "and leaves none to train on; use a smaller --test-fraction or more --points"
        )


def _divergence_is_an_error(train: Callable[..., float]) -> Callable[..., float]:
    """A run that diverges (nn.train.DivergenceError) ends in CommandError, nothing written."""

    @functools.wraps(train)
    def guarded(*args: Any, **kwargs: Any) -> float:
        import nn

        try:
            return train(*args, **kwargs)
        except nn.train.DivergenceError as e:
            raise CommandError(f"{e} (--lr); nothing was written") from None

    return guarded


def _load(settings: dict[str, Any]) -> tuple[Any, Any]:
    """The data set's (X, y): a toy set of ``points`` points, or a real one (all of it,
    or a seeded sample of ``points`` rows)."""
    import numpy as np

    import nn

    name, points, seed = settings["dataset"], settings["points"], settings["seed"]
    if name not in REAL_DATASETS:
        noise = settings.get("noise")  # None: the data set's own default
        extra = {} if noise is None else {nn.data.NOISE[name]: noise}
        return nn.data.DATASETS[name](points, seed=seed, **extra)
    try:
        X, y = getattr(nn.data, f"load_{name}")()
    except ImportError as e:
        raise CommandError(str(e)) from None
    if points is not None and points < len(X):
        keep = np.sort(np.random.default_rng(seed).permutation(len(X))[:points])
        X, y = X[keep], y[keep]
    return X, y


@_divergence_is_an_error
def _train_and_write(
    settings: dict[str, Any], out: common.OutputFolder, *, progress: bool
) -> tuple[float, list[tuple[str, str]]]:
    """Train as ``settings`` say and write OUTPUTS into ``out``, all at once.

    Returns the accuracy (on the held-out rows when ``test_fraction`` > 0, else
    on the training rows) and the files written, as :func:`_write_outputs`.
    """
    import nn

    compiled = settings.get("compile", False)
    fraction = settings.get("test_fraction", 0.0)
    X, y = _load(settings)
    try:
        nn.data.check_finite(X, f"the {settings['dataset']} data")
    except ValueError as e:
        raise CommandError(f"{e}; nothing was written") from None
    classes = int(y.max()) + 1
    X_test = y_test = None
    if fraction > 0:
        X, X_test, y, y_test = nn.data.train_test_split(
            X, y, test_fraction=fraction, seed=settings["seed"]
        )
    model, optimizer = _model(settings, X.shape[1], classes)
    shape = "-".join(str(n) for n in [X.shape[1], *settings["hidden"], classes])
    held = f" ({len(X_test)} more held out)" if X_test is not None else ""
    print(
        f"{settings['dataset']}: {len(X)} points{held}, {classes} classes; "
        f"MLP {shape} ({settings['activation']}), {settings['optimizer']} lr={settings['lr']:g}, "
        f"{settings['epochs']} epochs, batches of {settings['batch_size']}, "
        f"seed {settings['seed']}" + (", compiled" if compiled else ""),
        flush=True,
    )
    if settings["dataset"] in REAL_DATASETS and not compiled:
        print("hint: --compile trains this in seconds (the same numbers, replayed with NumPy)")
    if settings.get("check_steps"):
        print(compare_engines(settings, X, y, classes), flush=True)
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
        record=film_every(settings["epochs"], len(model.parameters())),
    )
    seconds = time.perf_counter() - start
    final = nn.train.evaluate(model, X, y, compile=compiled)
    print(f"trained in {seconds:.1f} s")
    print(describe_losses(history, final, len(X)))
    accuracy, held_out = final[1], None
    if X_test is not None:
        held_out = nn.train.evaluate(model, X_test, y_test, compile=compiled)
        accuracy = held_out[1]
        print(f"held-out accuracy: {accuracy:.3f}")
    written = _write_outputs(
        model, X, y, history, final, out, held_out=held_out, held_out_data=(X_test, y_test)
    )
    return accuracy, written


def _model(settings: dict[str, Any], inputs: int, classes: int) -> tuple[Any, Any]:
    """A fresh MLP and its optimizer, as ``settings`` say (seeded: the same every call)."""
    import nn

    sizes = [*settings["hidden"], classes]
    model = nn.MLP(inputs, sizes, settings["activation"], seed=settings["seed"])
    if settings["optimizer"] == "adam":
        optimizer = nn.optim.Adam(model.parameters(), lr=settings["lr"])
    else:
        optimizer = nn.optim.SGD(model.parameters(), lr=settings["lr"], momentum=SGD_MOMENTUM)
    return model, optimizer


def compare_engines(settings: dict[str, Any], X: Any, y: Any, classes: int) -> str:
    """Train ``settings["check_steps"]`` steps on one batch twice, from the same weights: on
    the scalar engine and with compile. The losses must agree to a relative 1e-9 (rounding:
    the replay sums in another order); returns the line that says so, else CommandError."""
    import nn

    steps, rows = settings["check_steps"], min(settings["batch_size"], len(X))
    losses = []
    for compiled in (False, True):
        model, optimizer = _model(settings, X.shape[1], classes)
        history = nn.train.fit(
            model,
            X[:rows],
            y[:rows],
            optimizer=optimizer,
            epochs=steps,  # one full batch per epoch: one step each
            batch_size=rows,
            progress=False,
            compile=compiled,
        )
        losses.append(history.loss)
    scalar, replayed = losses
    worst = max(abs(a - b) / max(abs(a), abs(b), 1e-300) for a, b in zip(scalar, replayed))
    if not worst <= COMPILE_RTOL:
        raise CommandError(
            f"compile disagrees with the scalar engine: losses {scalar} against {replayed} in "
            f"the first {steps} steps; run with --scalar and report this"
        )
    return (
        f"compile checked: {steps} training steps on {rows} points give the same losses on "
        f"the scalar engine (largest relative difference {worst:.1e})"
    )


def describe_losses(history: Any, final: tuple[float, float], points: int) -> str:
    """The two measures of a training run, each named for what it is, one line each.

    The last epoch's loss and accuracy are means over its mini-batches, each
    measured before that batch's update (``history``); ``final`` is the trained
    model's loss and accuracy on all ``points`` training points. Losses are in 4
    significant digits, so a small loss never reads as 0.
    """
    from ..explanation import number

    last = f"last epoch (mean over its batches): loss {number(history.loss[-1], 4)}"
    if history.accuracy:
        last += f", accuracy {history.accuracy[-1]:.1%}"
    loss, accuracy = final
    after = f"after training (all {points} training points): loss {number(loss, 4)}"
    return f"{last}\n{after}, accuracy {accuracy:.1%}"


def _write_outputs(
    model: Any,
    X: Any,
    y: Any,
    history: Any,
    final: tuple[float, float],
    out: common.OutputFolder,
    *,
    held_out: tuple[float, float] | None = None,
    held_out_data: tuple[Any, Any] = (None, None),
) -> list[tuple[str, str]]:
    """The decision boundary, the loss curve, the network view, a neuron's graph and player,
    and the model, into ``out``.

    ``final`` is the trained model's (loss, accuracy) on the training rows X,
    ``held_out`` on the held-out rows (if any): the loss curve shows both,
    each named. network.html, neuron_graph.svg and backprop.html are
    :func:`network_outputs`'s (held-out rows: ``held_out_data``); their notes
    say which training point and neuron they show.

    All or none: every file is drawn into ``out``'s staging folder, then the
    folder is swapped in (:meth:`common.OutputFolder.commit`). Returns the
    files written, each as (name, note).
    """
    import nn
    import viz
    from viz.plots import plot_decision_boundary, plot_loss

    writers = {
        "decision_boundary.png": lambda path: plot_decision_boundary(model, X, y, path),
        "loss.png": lambda path: plot_loss(history, path, final=final, held_out=held_out),
        "model.json": lambda path: nn.save(model, path),
    }
    network_writers, notes = network_outputs(model, X, y, history, *held_out_data)
    writers.update(network_writers)
    staging = out.staging()
    written = []
    for name in OUTPUTS:
        path = out.path / name
        if name == "decision_boundary.png" and X.shape[1] != 2:
            print(f"skipped {path}: the data have {X.shape[1]} features, the plot needs 2")
            continue
        try:
            writers[name](staging / name)
        except viz.DotNotFoundError as e:
            print(f"autograd-lite: warning: skipped {path}: {e}", file=sys.stderr)
            continue
        except viz.GraphTooLargeError as e:  # backprop.html of a wide network
            print(f"skipped {path}: the network is too big to lay out ({e})")
            continue
        except OSError as e:
            raise CommandError(f"cannot write {path}: {e.strerror or e}") from None
        except ValueError as e:  # e.g. nn.save's "a weight is not finite"
            raise CommandError(f"cannot write {path}: {e}; nothing was written") from None
        written.append((name, notes.get(name, "")))
    out.commit()
    return written


def film_every(epochs: int, parameters: int) -> int:
    """``fit``'s ``record=``: every k-th epoch, so the film keeps about FILM_FLOATS floats."""
    return max(1, math.ceil((epochs + 1) * parameters / FILM_FLOATS))


def network_outputs(
    model: Any, X: Any, y: Any, history: Any, X_test: Any = None, y_test: Any = None
) -> tuple[dict[str, Callable[[Path], Any]], dict[str, str]]:
    """The writers of network.html, neuron_graph.svg and backprop.html, and their notes.

    One network view (:func:`viz.network`) of the trained model with its recorded
    film, on the training point with the largest loss after training; the
    neuron drawn in neuron_graph.svg and played in backprop.html is the first
    hidden layer's neuron with the largest |∂L/∂z| on that point, its own graph
    (:func:`viz.network_data.neuron_graph`: backward gives each weight its ∂L/∂w).
    """
    import viz
    from viz.network_data import neuron_graph

    from ..explanation import number

    view = viz.network(model, X, y, history=history, X_test=X_test, y_test=y_test)
    data = view.data
    index, last = data["sample"]["index"], data["snapshots"][-1]
    deltas = [abs(d) for d in last["sample"]["delta"][0]]
    k = max(range(len(deltas)), key=lambda j: (deltas[j] == deltas[j], deltas[j]))
    label = data["columns"][1]["neurons"][k]
    root = neuron_graph(view.builder, label, last["params"], index)
    point = (
        f"training point {index} (class {data['sample']['y']}), the largest loss after "
        f"training: L = {number(last['sample']['loss'], 4)}"
    )
    activation = data["columns"][1]["activation"]
    neuron = f"neuron {label} ({activation}, the first hidden layer's largest |∂L/∂z|)"
    writers = {
        "network.html": view.save,
        "neuron_graph.svg": lambda path: viz.save(root, path),
        "backprop.html": lambda path: viz.save(root, path),  # the player, from the suffix
    }
    notes = {
        "network.html": f": the network and its training film ({len(data['snapshots'])} "
        f"snapshots); backprop layer by layer on {point}",
        "neuron_graph.svg": f": {neuron} on {point}",
        "backprop.html": f": {neuron} step by step on {point}",
    }
    return writers, notes


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
            "Train an MLP 2-16-16-3 on 300 points of 3 spirals (1.5 turns each) with softmax "
            "cross-entropy and Adam, with compile (after checking that its first steps give "
            "the scalar engine's losses), print its accuracy, run `check`, write "
            f"{outputs} into --out (all at once, as train does) and list them last."
        ),
    )
    common.add_output_options(demo)
    demo.add_argument("--no-check", action="store_true", help="skip the derivation checks")
    demo.add_argument(
        "--scalar",
        action="store_true",
        help="train on the scalar engine throughout: a graph of Values and its backward for "
        "every point (the same numbers; about 25 s instead of 3 s)",
    )
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
            "for the digits: it is drawn for 2-D data only), all at once: a new folder with "
            "them (and --out's other files) is swapped in, so --out holds the old outputs or "
            "the new ones, never a mixture; a second run on the same --out fails. Prints "
            "`accuracy: ...` (the "
            "held-out accuracy when --test-fraction > 0, else the training accuracy), then "
            "the files it wrote; the progress bar goes to stderr."
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
        type=common.epochs,
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
