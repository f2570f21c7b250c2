"""Training pictures with matplotlib: a classifier's decision boundary and its loss curve.

``plot_decision_boundary(model, X, y, path)`` colours the plane by the class
the model predicts and draws the points on top; ``plot_loss(history, path)``
draws the training loss per epoch (and the accuracy, when the history has
one). Both write PNG, SVG or PDF (from the suffix), atomically: a reader sees
the old file or the complete new one, never half of one. A PNG has twice the
pixels of the figure's size at 100 dpi (``SCALE``), sharp on a HiDPI screen.

matplotlib is imported only when a picture is drawn, and drawn on a bare
``Figure`` with the Agg canvas: no ``pyplot``, so nothing needs a display and
a notebook's own matplotlib backend is left as it was.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite import Value, no_grad

from .render import atomic_write, output_format
from .style import number

# File suffix -> matplotlib output format.
PLOT_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

# Pixels per point of a figure, as a HiDPI screen shows it: a PNG has SCALE × 100 pixels per
# inch of figure, so it stays sharp at twice the size a page shows it (width = its pixels / 2).
SCALE = 2

# One colour per class (ColorBrewer Set1, colour-blind safer than matplotlib's default cycle).
CLASS_COLORS = ("#377eb8", "#e41a1c", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf")

Scores = Callable[[np.ndarray], np.ndarray]

# numpy_forward evaluates a batch in chunks of at most this many activations per layer
# (8 MiB of float64), so a plot of a very wide model needs no more memory than a narrow one.
CHUNK_FLOATS = 2**20


def plot_format(path: str | os.PathLike[str]) -> str:
    """'png', 'svg' or 'pdf' from the suffix of ``path``; ValueError for anything else."""
    return output_format(path, PLOT_FORMATS)


# ---------------------------------------------------------------------------------------
# Decision boundary


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    path: str | os.PathLike[str],
    *,
    resolution: int = 200,
    threshold: float = 0.0,
    title: str | None = None,
) -> Path:
    """Colour the plane by the class ``model`` predicts, draw the points (X, y), save to ``path``.

    ``model(x)`` takes a list of two floats and returns a list of logits (the
    class is the argmax) or one score (class 1 if it is above ``threshold``).
    The plane is sampled on a ``resolution`` × ``resolution`` grid covering X
    with a margin. An ``nn`` MLP, Layer or Neuron is evaluated on the grid with
    NumPy from its weights (the same arithmetic, all points at once); any
    other model is called point by point under ``no_grad``, on a grid of at
    most 60 × 60. Returns the path.
    """
    fmt = plot_format(path)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(np.int64, copy=False)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), got {X.shape}")
    if y.shape != (len(X),):
        raise ValueError(f"plot_decision_boundary: y must have shape ({len(X)},), got {y.shape}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"plot_decision_boundary: resolution must be an int ≥ 2, got {resolution}")

    scores = numpy_forward(model)
    if scores is None:
        scores, resolution = _engine_forward(model), min(resolution, 60)
    (x0, x1), (y0, y1) = _bounds(X[:, 0]), _bounds(X[:, 1])
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    predicted = _classes(scores(grid), threshold).reshape(gx.shape)
    train = _classes(scores(X), threshold)
    accuracy = float(np.mean(train == y))

    classes = int(max(predicted.max(), y.max())) + 1
    colors = [CLASS_COLORS[c % len(CLASS_COLORS)] for c in range(classes)]
    fig, ax = _figure((6.2, 4.8))
    from matplotlib.colors import ListedColormap

    levels = np.arange(classes + 1) - 0.5
    ax.contourf(gx, gy, predicted, levels=levels, colors=colors, alpha=0.25)
    ax.contour(gx, gy, predicted, levels=levels[1:-1], colors="#333333", linewidths=0.8)
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=y,
        cmap=ListedColormap(colors),
        vmin=-0.5,
        vmax=classes - 0.5,
        s=16,
        edgecolors="white",
        linewidths=0.5,
    )
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    # Each class: the colour of its points (their true class) and of the region it is predicted.
    keys = [
        (
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markerfacecolor=colors[c],
                markeredgecolor="white",
                markersize=6,
            ),
            Patch(facecolor=colors[c], alpha=0.25),
        )
        for c in range(classes)
    ]
    from matplotlib.legend_handler import HandlerTuple

    ax.legend(
        keys,
        [f"class {c}" for c in range(classes)],
        handler_map={tuple: HandlerTuple(ndivide=None)},
        title="point: its class\nshade: predicted",
        title_fontsize=8,
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
    )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("x₀")
    ax.set_ylabel("x₁")
    ax.set_title(title or f"decision boundary — training accuracy {accuracy:.1%}")
    return _save(fig, path, fmt)


def numpy_forward(model: Any) -> Scores | None:
    """The outputs of an ``nn`` MLP, Layer or Neuron as a NumPy function of a batch, or None.

    The function maps an (n, nin) array to an (n, nout) array of the model's
    outputs, computed from the current weights, a chunk of points at a time
    (at most ``CHUNK_FLOATS`` activations per layer in memory). None for any
    other model.
    """
    layers = getattr(model, "layers", None)
    if layers is None:
        layers = [model] if hasattr(model, "neurons") else None
    if layers is None and hasattr(model, "w") and hasattr(model, "b"):
        layers = [_OneNeuron(model)]
    if not layers:
        return None
    weights = []
    for layer in layers:
        neurons = getattr(layer, "neurons", None)
        activation = getattr(layer, "activation", None)
        if not neurons or activation not in _NUMPY_ACTIVATIONS:
            return None
        W = np.array([[w.data for w in n.w] for n in neurons], dtype=np.float64)
        b = np.array([n.b.data for n in neurons], dtype=np.float64)
        weights.append((W, b, _NUMPY_ACTIVATIONS[activation]))

    widest = max(len(b) for _, b, _ in weights)
    rows = max(1, CHUNK_FLOATS // widest)  # points per chunk: memory does not grow with width

    def forward(points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        chunks = []
        for start in range(0, max(len(points), 1), rows):
            h = points[start : start + rows]
            for W, b, g in weights:
                h = g(h @ W.T + b)
            chunks.append(h)
        return np.concatenate(chunks)

    return forward


class _OneNeuron:
    """A lone Neuron seen as a layer of one."""

    def __init__(self, neuron: Any) -> None:
        self.neurons = [neuron]
        self.activation = getattr(neuron, "activation", None)


_NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),  # = 1/(1 + e^−z), without overflow
    "linear": lambda z: z,
}


def _engine_forward(model: Any) -> Scores:
    """Call the model point by point (no graph kept); outputs as an (n, k) array."""

    def forward(points: np.ndarray) -> np.ndarray:
        rows = []
        with no_grad():
            for p in points:
                out = model([float(p[0]), float(p[1])])
                outs = out if isinstance(out, (list, tuple)) else [out]
                rows.append([o.data if isinstance(o, Value) else float(o) for o in outs])
        return np.array(rows, dtype=np.float64)

    return forward


def _classes(outputs: np.ndarray, threshold: float) -> np.ndarray:
    """argmax of each row of logits; for one score per row, 1 if it is above threshold."""
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > threshold).astype(np.int64)
    return np.argmax(outputs, axis=1)


def _bounds(values: np.ndarray) -> tuple[float, float]:
    """The range of ``values`` widened by 10% (and at least 0.5) on each side."""
    low, high = float(values.min()), float(values.max())
    margin = max(0.1 * (high - low), 0.5)
    return low - margin, high + margin


# ---------------------------------------------------------------------------------------
# Loss curve


def plot_loss(
    history: Any,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    final: tuple[float, float | None] | None = None,
    held_out: tuple[float, float | None] | None = None,
) -> Path:
    """Draw the loss per epoch (log scale) and, if known, the accuracy; save to ``path``.

    ``history`` is an ``nn.train.History`` (or anything with a ``loss`` list
    and optionally an ``accuracy`` list), a mapping with those keys, or a
    plain sequence of losses: each epoch's value is the mean over its
    mini-batches, measured as the epoch went. ``final``, the trained model's
    (loss, accuracy) on the training data (``nn.train.evaluate``), and
    ``held_out``, the same on data it was not trained on, are marked after the
    last epoch, each with its own marker and name in the legend and the title.
    Returns the path.
    """
    fmt = plot_format(path)
    loss, accuracy = _series(history)
    if not loss:
        raise ValueError("plot_loss: the history has no losses to draw")
    epochs = np.arange(1, len(loss) + 1)
    fig, ax = _figure((6.0, 4.6) if final or held_out else (6.0, 3.8))
    ax.plot(epochs, loss, color=_LOSS, linewidth=1.6, label="training loss, mean over the epoch")
    if all(v > 0 and math.isfinite(v) for v in loss):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss", color=_LOSS)
    ax.set_xlim(1, max(len(loss), 2))
    ax.grid(True, which="major", alpha=0.3)
    right = None
    if accuracy or any(m is not None and m[1] is not None for m in (final, held_out)):
        right = ax.twinx()
        right.set_ylim(0.0, 1.02)
        right.set_ylabel("accuracy", color=_ACCURACY)
    if accuracy:
        right.plot(
            epochs[: len(accuracy)],
            accuracy,
            color=_ACCURACY,
            linewidth=1.2,
            label="training accuracy, mean over the epoch",
        )
    last = f"loss {number(loss[-1])}" + (f", accuracy {accuracy[-1]:.1%}" if accuracy else "")
    lines = [f"last epoch (mean over its batches): {last}"]
    # (measure, its name, filled marker?) — training data filled, held-out data hollow.
    marks = [(final, "training data", True), (held_out, "held-out data", False)]
    for measure, name, filled in marks:
        if measure is None:
            continue
        measured_loss, measured_accuracy = measure
        style = {"markersize": 6, "clip_on": False, "linestyle": "none"}
        style.update({} if filled else {"markerfacecolor": "white", "markeredgewidth": 1.5})
        marker = "D" if filled else "s"
        text = f"loss {number(measured_loss)}"
        at = [len(loss)]
        ax.plot(
            at, [measured_loss], marker, color=_LOSS, label=f"loss after training, {name}", **style
        )
        if measured_accuracy is not None:
            text += f", accuracy {measured_accuracy:.1%}"
            label = f"accuracy after training, {name}"
            right.plot(at, [measured_accuracy], marker, color=_ACCURACY, label=label, **style)
        lines.append(f"after training, {name}: {text}")
    if len(lines) > 1:
        handles, labels = ax.get_legend_handles_labels()
        if right is not None:
            more = right.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
        fig.legend(
            handles, labels, loc="outside lower center", ncols=2, fontsize=7.5, frameon=False
        )
    ax.set_title(title or "\n".join(lines), fontsize=10)
    return _save(fig, path, fmt)


_LOSS, _ACCURACY = "#b2182b", "#2166ac"


def _series(history: Any) -> tuple[list[float], list[float]]:
    """(losses, accuracies) from a History, a mapping or a sequence of losses."""
    if isinstance(history, Mapping):
        loss, accuracy = history.get("loss", []), history.get("accuracy", [])
    elif hasattr(history, "loss"):
        loss, accuracy = history.loss, getattr(history, "accuracy", [])
    elif isinstance(history, Sequence) and not isinstance(history, (str, bytes)):
        loss, accuracy = history, []
    else:
        raise TypeError(
            f"plot_loss: history must be a History, a mapping or a list of losses, "
            f"got {type(history).__name__}"
        )
    return [float(v) for v in loss], [float(v) for v in accuracy or []]


# ---------------------------------------------------------------------------------------
# Figures


def _figure(size: tuple[float, float]) -> tuple[Any, Any]:
    """A new Figure on the Agg canvas (no pyplot: no display, no global state) and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig: Any, path: str | os.PathLike[str], fmt: str) -> Path:
    """Render ``fig`` in memory, then write it to ``path`` atomically."""
    import matplotlib

    buffer = io.BytesIO()
    # The same picture gives the same bytes: no date or version stamp, no random SVG ids.
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
    with matplotlib.rc_context({"svg.hashsalt": "autograd-lite"}):
        fig.savefig(buffer, format=fmt, metadata=metadata[fmt], dpi=SCALE * fig.dpi)
    atomic_write(path, buffer.getvalue())
    return Path(path)
