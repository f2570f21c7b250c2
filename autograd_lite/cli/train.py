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
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
OPTIMIZERS = ("adam", "sgd")
DEFAULT_LR = {"adam": 0.01, "sgd": 0.1}
SGD_MOMENTUM = 0.9

# What ``demo`` trains: 3 spiral arms of 1.5 turns, 300 points, an MLP 2-16-16-3 with Adam.
# About 30 s on one core, ≥ 95% training accuracy (98.7% with seed 0).
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
    out = common.output_dir(args.out)
    accuracy = _train_and_write(settings, out, progress=not args.no_progress)
    print(f"accuracy: {accuracy:.3f}")
    return 0


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
    print(f"trained in {seconds:.1f} s")
    print(describe_losses(history, (loss, accuracy), len(X)))
    _write_outputs(model, X, y, history, (loss, accuracy), out)
    return accuracy


def describe_losses(history: Any, final: tuple[float, float], points: int) -> str:
    """The two measures of a training run, each named for what it is, one line each.

    The last epoch's loss and accuracy are means over its mini-batches, each
    measured before that batch's update (``history``); ``final`` is the trained
    model's loss and accuracy on the whole data set of ``points`` points.
    """
    last = f"last epoch (mean over its batches): loss {history.loss[-1]:.4f}"
    if history.accuracy:
        last += f", accuracy {history.accuracy[-1]:.1%}"
    loss, accuracy = final
    return f"{last}\nafter training (all {points} points): loss {loss:.4f}, accuracy {accuracy:.1%}"


def _write_outputs(
    model: Any, X: Any, y: Any, history: Any, final: tuple[float, float], out: Path
) -> None:
    """The decision boundary, the loss curve, a neuron's graph and the model, into ``out``.

    ``final`` is the trained model's (loss, accuracy) on all of X, which the loss
    curve shows beside the last epoch's. The neuron's graph is the model's first
    hidden neuron on one training point (:func:`trained_neuron`); its line says which.

    Every file is written atomically (a temporary file in ``out``, then
    ``os.replace``), so an existing file is replaced whole or not at all.
    """
    import nn
    import viz
    from viz.plots import plot_decision_boundary, plot_loss

    neuron, about_neuron = trained_neuron(model, X)
    writers = {
        "decision_boundary.png": lambda path: plot_decision_boundary(model, X, y, path),
        "loss.png": lambda path: plot_loss(history, path, final=final),
        "neuron_graph.svg": lambda path: viz.save(neuron, path),
        "model.json": lambda path: nn.save(model, path),
    }
    notes = {"neuron_graph.svg": f": {about_neuron}"}
    for name in OUTPUTS:
        path = out / name
        try:
            writers[name](path)
        except viz.DotNotFoundError as e:
            print(f"autograd-lite: warning: skipped {path}: {e}", file=sys.stderr)
            continue
        except OSError as e:
            raise CommandError(f"cannot write {path}: {e.strerror or e}") from None
        print(f"wrote {path}{notes.get(name, '')}")


def trained_neuron(model: Any, X: Any) -> tuple[Any, str]:
    """The first hidden neuron of a trained ``nn.MLP`` on one training point, after backward.

    The neuron ``a = g(w·x + b)`` is rebuilt from the trained weights (copies,
    labelled as in the model, so the model itself is untouched) and applied to
    the inputs ``x0``, ``x1`` of point i of X: the first point on which it is
    active (w·x + b > 0, so a ReLU passes a gradient back), or point 0 if there
    is none. Returns the output Value, whose grads are ∂a/∂(each input and
    parameter), and a sentence saying which neuron and which point it is.
    """
    import nn

    from ..value import Value

    trained = model.layers[0].neurons[0]
    neuron = nn.Neuron(trained.nin, trained.activation, name=trained.name)
    for copy, weight in zip(neuron.parameters(), trained.parameters()):
        copy.data = weight.data
    w, b = [v.data for v in trained.w], trained.b.data
    active = (i for i, x in enumerate(X) if b + sum(wj * float(xj) for wj, xj in zip(w, x)) > 0)
    index = next(active, None)
    why = " (the first where w·x + b > 0)" if index is not None else ""
    index = index or 0
    x = [Value(float(v), label=f"x{j}") for j, v in enumerate(X[index])]
    out = neuron(x)
    out.label = f"{trained.name} ({trained.activation})"
    out.backward()
    point = ", ".join(f"{v.data:.3f}" for v in x)
    return out, (
        f"the trained model's first hidden neuron {trained.name} ({trained.activation}) "
        f"on training point {index}{why}, x = ({point})"
    )


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
            "cross-entropy and Adam (about 30 s), print its accuracy, run `check`, and write "
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
            f"and write {outputs} into --out. Prints `accuracy: ...` (training accuracy) "
            "last; the progress bar goes to stderr."
        ),
        epilog="example: autograd-lite train --dataset spirals --hidden 32,32 --epochs 100",
    )
    train.add_argument(
        "--dataset", choices=DATASETS, default="moons", help="the data set (default: moons)"
    )
    train.add_argument(
        "--points",
        type=common.points,
        default=200,
        metavar="N",
        help="data set size (default: 200)",
    )
    train.add_argument(
        "--hidden",
        type=common.layer_sizes,
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
    common.add_output_options(train)
    train.set_defaults(func=cmd_train)
