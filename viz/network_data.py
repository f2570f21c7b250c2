"""The network view's data: every number the page shows, computed by the engine, as JSON.

:class:`NetworkData` turns an ``nn.MLP``, its training data and a list of
parameter snapshots (``fit(..., record=True)``'s ``history.snapshots``) into
one JSON-able dict (the keys are listed in :mod:`viz.network`). Per snapshot:

- **the sample's pass** through the scalar engine: the parameters are set to
  the snapshot, the sample's loss graph is built from Values, ``backward``
  runs, and the page gets each neuron's output ``h = g(z)``, its ``z``,
  ∂L/∂h, the local derivative g'(z) from the op table, ∂L/∂z (``z.grad``), and
  every parameter's ``p.grad``. Nothing is re-derived: these are the Values'
  own ``.data`` and ``.grad``. The parameters (data and grad) are restored after.
- **heatmaps** (2-D inputs): every neuron's output over a grid covering the
  data, forward values computed with NumPy from the snapshot's weights (the
  same arithmetic as the engine, tested against it), quantised to 256 levels
  between the neuron's min and max; **regions**: the predicted class per cell.
- **health** per layer, over all training points: mean |∂L/∂W| of the mean
  training loss (the compiled replay of the engine, ``autograd_lite.compile``),
  the fraction of dead ReLUs, of saturated tanh/sigmoid outputs, and
  ‖ΔW‖/‖W‖ since the previous snapshot; with the thresholds that flag a layer.

A single snapshot of a 2-16-16-3 takes a few tens of milliseconds
(:meth:`NetworkData.frame`), so a live server can send ~10 frames a second.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_lite import Value, no_grad
from autograd_lite.explanation import local_derivatives

GRID = 16  # heatmap cells per side, per neuron
REGION_GRID = 48  # decision-region cells per side
SATURATION = 0.01  # a tanh/sigmoid output within this of its limits is saturated

# name, comparison, threshold, what it means: a layer is flagged where one is crossed.
HEALTH_THRESHOLDS: tuple[tuple[str, str, float, str], ...] = (
    ("grad", "<", 1e-6, "vanishing gradient: mean |∂L/∂W| below 1e-6"),
    ("grad", ">", 10.0, "exploding gradient: mean |∂L/∂W| above 10"),
    ("dead", ">", 0.5, "more than half of the ReLUs are dead (0 on every training point)"),
    ("saturated", ">", 0.5, "more than half of the outputs are saturated (within 0.01 of a limit)"),
    ("update_ratio", ">", 0.1, "updates too large: ‖ΔW‖/‖W‖ above 0.1 since the last snapshot"),
    ("update_ratio", "<", 1e-6, "weights barely move: ‖ΔW‖/‖W‖ below 1e-6"),
)

_NUMPY_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),  # = 1/(1 + e^−z), without overflow
    "linear": lambda z: z,
}


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]


def _none_if_nan(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def bounds(X: np.ndarray) -> list[float]:
    """[x0, x1, y0, y1]: the data's box widened by 10% (at least 0.5) on each side."""
    out = []
    for column in (X[:, 0], X[:, 1]):
        low, high = float(np.min(column)), float(np.max(column))
        margin = max(0.1 * (high - low), 0.5)
        out += [low - margin, high + margin]
    return out


def grid_points(box: Sequence[float], n: int) -> np.ndarray:
    """The n × n cell centres of ``box`` as (n², 2) rows, row by row from the top (y high)."""
    x0, x1, y0, y1 = box
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y1 - (np.arange(n) + 0.5) * (y1 - y0) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def quantise(values: np.ndarray) -> tuple[float, float, bytes]:
    """(lo, hi, a byte per value): value ≈ lo + (hi − lo)·q/255; lo, hi NaN if one is not finite."""
    if not np.all(np.isfinite(values)):
        return math.nan, math.nan, bytes(len(values))
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        return lo, hi, bytes(len(values))
    q = np.rint((values - lo) * (255.0 / (hi - lo)))
    return lo, hi, np.clip(q, 0, 255).astype(np.uint8).tobytes()


def dequantise(lo: float, hi: float, q: bytes) -> np.ndarray:
    """The values :func:`quantise` stands for (within (hi − lo)/510 of the true ones)."""
    return lo + (hi - lo) * np.frombuffer(q, dtype=np.uint8) / 255.0


class NetworkData:
    """The data builder of one model and data set; :meth:`build` gives the page's dict.

    ``model`` is an ``nn.MLP`` (or anything with ``layers`` of ``neurons`` with
    ``w``, ``b`` and an ``activation``, whose ``parameters()`` are the neurons'
    weights then bias, layer by layer). ``X``/``y`` are the training data
    (class indices), ``X_test``/``y_test`` held out; ``loss`` one of ``nn.train.LOSSES``
    (default: softmax cross-entropy, or for one output the logistic loss of its logit).
    ``sample`` is the index of
    the training point whose backward pass is shown (None: the one with the
    largest loss at the last snapshot). The model's parameters are left as they
    were after every call.
    """

    def __init__(
        self,
        model: Any,
        X: Any = None,
        y: Any = None,
        *,
        sample: int | None = None,
        X_test: Any = None,
        y_test: Any = None,
        loss: str | None = None,
        precision: int = 4,
        grid: int = GRID,
        region_grid: int = REGION_GRID,
    ) -> None:
        from nn.train import resolve_loss

        layers = getattr(model, "layers", None)
        if not layers or not all(hasattr(layer, "neurons") for layer in layers):
            raise TypeError(
                "viz.network: model must be an nn.MLP (layers of neurons), "
                f"got {type(model).__name__}"
            )
        for layer in layers:
            if layer.activation not in _NUMPY_ACTIVATIONS:
                raise ValueError(
                    f"viz.network: layer {layer.name} has activation {layer.activation!r}, "
                    f"not one of {', '.join(_NUMPY_ACTIVATIONS)}"
                )
        if isinstance(precision, bool) or not isinstance(precision, int) or precision < 1:
            raise ValueError(f"viz.network: precision must be an int ≥ 1, got {precision!r}")
        self.model, self.layers = model, layers
        self.params = model.parameters()
        expected = [p for layer in layers for n in layer.neurons for p in (*n.w, n.b)]
        if [id(p) for p in self.params] != [id(p) for p in expected]:
            raise ValueError("viz.network: model.parameters() must be each neuron's w then b")
        self.nin = len(layers[0].neurons[0].w)
        if loss is None:  # the loss the CLI and fit use: one logit per class, or one score
            one = len(layers[-1].neurons) == 1
            loss = "binary_cross_entropy_with_logits" if one else "softmax_cross_entropy"
        self.loss_name = loss
        self.loss_fn, self.threshold = resolve_loss(loss)
        self.precision, self.grid, self.region_grid = precision, grid, region_grid
        self.X, self.y = _data(X, y, self.nin, "X", "y")
        self.X_test, self.y_test = _data(X_test, y_test, self.nin, "X_test", "y_test")
        self.sample: int | None = None
        self._chosen = False  # False: the worst point at the last snapshot, found by build
        if sample is not None:
            self.set_sample(sample)
        self.plane = self.X is not None and self.nin == 2
        self.box = bounds(self.X) if self.plane else None
        self._steps: dict[str, Any] = {}  # compiled full-batch steps, made on first use

    def set_sample(self, sample: int) -> None:
        """Show training point ``sample`` (an index into X, negative from the end)."""
        if self.X is None:
            raise ValueError("viz.network: sample= needs the training data X and y")
        if isinstance(sample, bool) or not isinstance(sample, int):
            raise TypeError(f"viz.network: sample must be an int index, got {sample!r}")
        if not -len(self.X) <= sample < len(self.X):
            raise ValueError(
                f"viz.network: sample={sample} is out of range for {len(self.X)} training points"
            )
        self.sample = sample % len(self.X)
        self._chosen = True

    # ---------------------------------------------------------------------------------
    # Structure

    def structure(self) -> dict[str, Any]:
        """The columns of neurons, the parameters' labels and the layout (see viz.network)."""
        columns = [
            {
                "name": "in",
                "kind": "input",
                "activation": None,
                "neurons": [f"in.{j}" for j in range(self.nin)],
            }
        ]
        last, start = len(self.layers) - 1, 0
        for i, layer in enumerate(self.layers):
            nin = len(layer.neurons[0].w)
            columns.append(
                {
                    "name": layer.name,
                    "kind": "output" if i == last else "hidden",
                    "activation": layer.activation,
                    "neurons": [n.name for n in layer.neurons],
                    # where each neuron's w0 is in params; its w_j at +j, its bias at +nin
                    "w0": [start + k * (nin + 1) for k in range(len(layer.neurons))],
                }
            )
            start += len(layer.neurons) * (nin + 1)
        side = math.isqrt(self.nin)
        image = [side, side] if self.nin > 16 and side * side == self.nin else None
        return {
            "columns": columns,
            "params": [p.label for p in self.params],
            "image": image,
            "layout": layout(columns, image, heatmaps=self.plane),
        }

    # ---------------------------------------------------------------------------------
    # NumPy forward (heatmaps, dead and saturated units, choosing the sample)

    def arrays(self, params: Sequence[float]) -> list[tuple[np.ndarray, np.ndarray, str]]:
        """(W, b, activation) per layer from a flat parameter list in model order."""
        flat = np.asarray(params, dtype=np.float64)
        out, start = [], 0
        for layer in self.layers:
            nout, nin = len(layer.neurons), len(layer.neurons[0].w)
            block = flat[start : start + nout * (nin + 1)].reshape(nout, nin + 1)
            out.append((block[:, :nin], block[:, nin], layer.activation))
            start += nout * (nin + 1)
        return out

    def forward(self, params: Sequence[float], points: np.ndarray) -> list[np.ndarray]:
        """Every layer's outputs (n, width) on ``points``, the inputs first."""
        h = np.asarray(points, dtype=np.float64)
        outs = [h]
        with np.errstate(all="ignore"):
            for W, b, activation in self.arrays(params):
                h = _NUMPY_ACTIVATIONS[activation](h @ W.T + b)
                outs.append(h)
        return outs

    def worst_sample(self, params: Sequence[float]) -> int:
        """The training point with the largest loss (softmax cross-entropy of its logits)."""
        assert self.X is not None and self.y is not None
        logits = self.forward(params, self.X)[-1]
        if logits.shape[1] == 1 or self.loss_name != "softmax_cross_entropy":
            with no_grad():
                losses = [self._point_loss(params, i) for i in range(len(self.X))]
            return int(np.nanargmax(losses)) if not np.all(np.isnan(losses)) else 0
        with np.errstate(all="ignore"):
            top = logits.max(axis=1, keepdims=True)
            logsum = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
            losses = logsum - logits[np.arange(len(logits)), self.y]
        if np.all(np.isnan(losses)):
            return 0
        return int(np.nanargmax(losses))

    def _point_loss(self, params: Sequence[float], i: int) -> float:
        with self._parameters(params):
            return self.loss_fn(self.model([float(v) for v in self.X[i]]), int(self.y[i])).data

    # ---------------------------------------------------------------------------------
    # The sample's forward and backward pass, by the scalar engine

    def sample_pass(self, params: Sequence[float], index: int) -> dict[str, Any]:
        """One training point's pass at ``params``: the Values' ``.data`` and ``.grad``.

        Keys: ``out`` (per column, the inputs first: each neuron's output h; an
        output neuron's is its logit), ``z`` (per layer, w·h + b), ``dh``
        (∂L/∂h), ``gprime`` (g'(z), the op's local derivative), ``delta``
        (∂L/∂z = ∂L/∂h · g'(z), the Value's grad), ``grad`` (∂L/∂p for every
        parameter, model order), ``loss`` and ``probs`` (softmax of the logits).
        """
        assert self.X is not None and self.y is not None
        with self._parameters(params):
            x = [Value(float(v), label=f"in.{j}") for j, v in enumerate(self.X[index])]
            h: list[Value] = x
            outs, sums = [], []
            for layer in self.layers:
                h = layer._forward(h)
                outs.append(h)
                sums.append([o if layer.activation == "linear" else o.parents[0] for o in h])
            target = int(self.y[index])
            logits = h[0] if len(h) == 1 else h
            loss = self.loss_fn(logits, target)
            loss.backward()
            result = {
                "out": [[v.data for v in x]] + [[o.data for o in layer] for layer in outs],
                "z": [[z.data for z in layer] for layer in sums],
                "dh": [[o.grad for o in layer] for layer in outs],
                "gprime": [
                    [local_derivatives(o)[0] if o is not z else 1.0 for o, z in zip(lo, ls)]
                    for lo, ls in zip(outs, sums)
                ],
                "delta": [[z.grad for z in layer] for layer in sums],
                "grad": [p.grad for p in self.params],
                "loss": loss.data,
            }
            if len(h) > 1:
                from nn import softmax

                with no_grad():
                    result["probs"] = [p.data for p in softmax(h)]
        return result

    def _parameters(self, params: Sequence[float]) -> _Swap:
        return _Swap(self.params, params)

    # ---------------------------------------------------------------------------------
    # Heatmaps and regions

    def heat(self, params: Sequence[float]) -> dict[str, Any]:
        """Every neuron's output on the grid, quantised: ``lo``, ``hi`` per neuron (inputs
        first) and ``q``, base64 of grid² bytes per neuron, neuron after neuron, rows from
        the top of the plane."""
        points = grid_points(self.box, self.grid)
        los, his, chunks = [], [], []
        for h in self.forward(params, points):
            for j in range(h.shape[1]):
                lo, hi, q = quantise(h[:, j])
                los.append(lo)
                his.append(hi)
                chunks.append(q)
        return {"lo": los, "hi": his, "q": base64.b64encode(b"".join(chunks)).decode("ascii")}

    def regions(self, params: Sequence[float]) -> str:
        """base64 of one byte per cell of the region grid: the class the model predicts
        (255 where the outputs are not finite)."""
        out = self.forward(params, grid_points(self.box, self.region_grid))[-1]
        with np.errstate(invalid="ignore"):
            if out.shape[1] == 1:
                classes = (out[:, 0] > self.threshold).astype(np.uint8)
            else:
                classes = np.argmax(out, axis=1).astype(np.uint8)
        classes[~np.all(np.isfinite(out), axis=1)] = 255
        return base64.b64encode(classes.tobytes()).decode("ascii")

    # ---------------------------------------------------------------------------------
    # Health and held-out figures

    def _step(self, which: str) -> Any:
        if which not in self._steps:
            from nn.train import _compiled_step

            X, y = (self.X, self.y) if which == "train" else (self.X_test, self.y_test)
            rows = X.tolist()
            self._steps[which] = _compiled_step(
                self.model, rows, [int(t) for t in y], self.loss_fn, self.threshold
            )
        return self._steps[which]

    def full_batch(self, params: Sequence[float], which: str = "train") -> tuple[float, float]:
        """(mean loss, accuracy) over the training (or held-out) points, with the parameters'
        gradients of that mean left in ``p.grad`` (for "train")."""
        X = self.X if which == "train" else self.X_test
        step = self._step(which)
        for p in self.params:
            p.grad = 0.0
        if which == "train":
            value, right = step(list(range(len(X))))
        else:
            with no_grad():
                value, right = step(list(range(len(X))))
        return float(value), right / len(X)

    def health(
        self, params: Sequence[float], previous: Sequence[float] | None
    ) -> dict[str, dict[str, Any]]:
        """Per layer: ``grad``, ``dead``, ``saturated``, ``update_ratio`` (None where undefined)
        and ``flags``, the texts of HEALTH_THRESHOLDS crossed."""
        with self._parameters(params):
            with np.errstate(all="ignore"):
                try:
                    self.full_batch(params)
                    grads = [p.grad for p in self.params]
                except (FloatingPointError, OverflowError, ValueError):
                    grads = [math.nan] * len(self.params)
        outs = self.forward(params, self.X)[1:]
        now = self.arrays(params)
        before = self.arrays(previous) if previous is not None else None
        gW = self.arrays(grads)
        figures: dict[str, dict[str, Any]] = {}
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            h, activation = outs[i], layer.activation
            dead = saturated = update = None
            if activation == "relu" and i != last:
                dead = float(np.mean(np.all(h == 0.0, axis=0)))
            if activation in ("tanh", "sigmoid"):
                low = -1.0 if activation == "tanh" else 0.0
                near = (h < low + SATURATION) | (h > 1.0 - SATURATION)
                saturated = float(np.mean(near))
            if before is not None:
                with np.errstate(all="ignore"):
                    norm = float(np.linalg.norm(before[i][0]))
                    change = float(np.linalg.norm(now[i][0] - before[i][0]))
                update = change / norm if norm > 0 else None
            with np.errstate(all="ignore"):
                grad = float(np.mean(np.abs(gW[i][0])))
            figures[layer.name] = {
                "grad": _none_if_nan(grad),
                "dead": dead,
                "saturated": saturated,
                "update_ratio": _none_if_nan(update) if update is not None else None,
            }
            figures[layer.name]["flags"] = flags(figures[layer.name])
        return figures

    # ---------------------------------------------------------------------------------
    # Frames and the whole dict

    def frame(
        self,
        epoch: int | None,
        params: Sequence[float],
        *,
        previous: Sequence[float] | None = None,
        history: Any = None,
        sample: int | None = None,
    ) -> dict[str, Any]:
        """One snapshot's frame: ``epoch``, ``params``, ``loss``/``accuracy`` (History's, for
        that epoch; None at epoch 0 or without a history), ``test_loss``/``test_accuracy``,
        ``sample`` (:meth:`sample_pass`), ``heat``, ``regions``, ``health``."""
        params = _floats(params)
        if len(params) != len(self.params):
            raise ValueError(
                f"viz.network: a snapshot has {len(params)} parameters, "
                f"the model {len(self.params)}"
            )
        frame: dict[str, Any] = {"epoch": epoch, "params": params}
        losses = getattr(history, "loss", None) or []
        accuracies = getattr(history, "accuracy", None) or []
        has = epoch is not None and 1 <= epoch <= len(losses)
        frame["loss"] = losses[epoch - 1] if has else None
        frame["accuracy"] = accuracies[epoch - 1] if has and epoch <= len(accuracies) else None
        frame["test_loss"] = frame["test_accuracy"] = None
        if self.X_test is not None:
            with self._parameters(params), np.errstate(all="ignore"):
                frame["test_loss"], frame["test_accuracy"] = self.full_batch(params, "test")
        if self.X is not None:
            index = self.sample if sample is None else sample
            if index is not None:
                frame["sample"] = self.sample_pass(params, index)
            frame["health"] = self.health(params, previous)
        if self.plane:
            frame["heat"] = self.heat(params)
            frame["regions"] = self.regions(params)
        return frame

    def build(
        self,
        snapshots: Sequence[tuple[int | None, Sequence[float]]] | None = None,
        history: Any = None,
        *,
        title: str = "a network learns",
        players: bool = False,
    ) -> dict[str, Any]:
        """The page's whole dict (keys in :mod:`viz.network`). ``snapshots`` default to the
        history's, else the model's current parameters (epoch = the history's length)."""
        if snapshots is None:
            snapshots = list(getattr(history, "snapshots", None) or [])
        if not snapshots:
            epochs = len(getattr(history, "loss", None) or []) if history is not None else None
            snapshots = [(epochs, [p.data for p in self.params])]
        last = _floats(snapshots[-1][1])
        notes = []
        if not all(math.isfinite(v) for v in last):
            bad = [p.label for p, v in zip(self.params, last) if not math.isfinite(v)]
            notes.append(
                f"{len(bad)} parameter(s) are not finite at the last snapshot "
                f"({', '.join(bad[:5])}{', …' if len(bad) > 5 else ''}): they read NaN or "
                "±Infinity, and everything computed from them too"
            )
        data: dict[str, Any] = {"version": 1, "title": title, "precision": self.precision}
        data.update(self.structure())
        data["loss_name"] = self.loss_name
        if self.X is not None:
            if not self._chosen:  # each build picks the worst point of its last snapshot
                self.sample = self.worst_sample(last)
                why = "the training point with the largest loss at the last snapshot"
            else:
                why = "chosen with sample="
            x = self.X[self.sample]
            data["sample"] = {"index": self.sample, "x": _floats(x), "y": int(self.y[self.sample])}
            data["sample"]["why"] = why
        if self.plane:  # the points drawn on the regions (and clicked to choose a sample)
            data["points"] = {"x": self.X.tolist(), "y": self.y.tolist()}
            if self.X_test is not None:
                data["points"]["test_x"] = self.X_test.tolist()
                data["points"]["test_y"] = self.y_test.tolist()
            data["box"] = self.box
            data["grid"], data["region_grid"] = self.grid, self.region_grid
        data["health_thresholds"] = [list(t) for t in HEALTH_THRESHOLDS]
        frames, previous = [], None
        for epoch, params in snapshots:
            frames.append(self.frame(epoch, params, previous=previous, history=history))
            previous = frames[-1]["params"]
        data["snapshots"] = frames
        data["curves"] = {
            "loss": list(getattr(history, "loss", None) or []),
            "accuracy": list(getattr(history, "accuracy", None) or []),
        }
        data["notes"] = notes
        return data


def flags(figures: dict[str, Any]) -> list[str]:
    """The texts of the HEALTH_THRESHOLDS that ``figures`` cross."""
    out = []
    for key, op, limit, text in HEALTH_THRESHOLDS:
        value = figures.get(key)
        if value is None:
            continue
        if (op == "<" and value < limit) or (op == ">" and value > limit):
            out.append(text)
    return out


class _Swap:
    """``with _Swap(params, values):`` the parameters hold ``values`` (data, grad 0); their
    data and grad are restored on exit."""

    def __init__(self, params: Sequence[Value], values: Sequence[float]) -> None:
        self.params, self.values = params, values

    def __enter__(self) -> None:
        self.saved = [(p.data, p.grad) for p in self.params]
        for p, v in zip(self.params, self.values):
            p.data, p.grad = float(v), 0.0

    def __exit__(self, *exc: Any) -> None:
        for p, (d, g) in zip(self.params, self.saved):
            p.data, p.grad = d, g


def _data(X: Any, y: Any, nin: int, xname: str, yname: str) -> tuple[Any, Any]:
    if X is None and y is None:
        return None, None
    if X is None or y is None:
        raise ValueError(f"viz.network: {xname} and {yname} go together; got only one")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != nin or len(X) == 0:
        raise ValueError(f"viz.network: {xname} must have shape (n, {nin}), got {X.shape}")
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise ValueError(f"viz.network: {yname} must have shape ({len(X)},), got {y.shape}")
    return X, y.astype(np.int64)


# -------------------------------------------------------------------------------------
# Layout: where each neuron sits (shared by the static picture and network.js)

WIDTH = 760  # the picture's width in its own units (the page scales it to fit)
# The value written right of a neuron (network.js: "δ " and 3 significant digits, at most
# "δ -1.23e-05", 11 characters) in VALUE_FONT units: the last column keeps room for it.
VALUE_FONT = 9.5
VALUE_CHARS = 11
VALUE_ROOM = 3.0 + VALUE_CHARS * 0.62 * VALUE_FONT  # from the square's right side


def layout(columns: list[dict[str, Any]], image: list[int] | None, *, heatmaps: bool) -> dict:
    """Positions in a WIDTH-wide picture: ``neurons`` maps a label to [x, y, size]
    (the centre and the side of its square, or the diameter of its circle); ``height``."""
    sizes = [len(c["neurons"]) for c in columns[1 if image else 0 :]]
    tallest = max(sizes)
    size = 34.0 if heatmaps else 22.0
    size = min(size, 560.0 / (tallest * 1.3))
    pitch = size * 1.3
    top = 28.0
    height = top + tallest * pitch + 20.0
    n = len(columns)
    pixel = 14.0
    left = image[1] * pixel / 2 + 10.0 if image else 40.0
    right = size / 2 + VALUE_ROOM  # the output column's values stay inside the picture
    step = (WIDTH - left - right) / max(n - 1, 1)
    neurons: dict[str, list[float]] = {}
    for c, column in enumerate(columns):
        x = left + c * step
        labels = column["neurons"]
        if c == 0 and image:
            rows, cols = image
            y0 = top + (height - top - rows * pixel) / 2
            for k, label in enumerate(labels):
                r, q = divmod(k, cols)
                neurons[label] = [
                    x - cols * pixel / 2 + (q + 0.5) * pixel,
                    y0 + (r + 0.5) * pixel,
                    pixel,
                ]
            continue
        y0 = top + (height - top - len(labels) * pitch) / 2
        for k, label in enumerate(labels):
            neurons[label] = [x, y0 + (k + 0.5) * pitch, size]
    return {"width": WIDTH, "height": height, "neurons": neurons, "value_font": VALUE_FONT}


# A neuron with more inputs than this is drawn with its SHOWN_TERMS largest terms w·a only
# (the rest summed into one leaf): the digits' 64-input neuron would be 14,000 pt wide.
FOLD_ABOVE = 16
SHOWN_TERMS = 8


def neuron_graph(builder: NetworkData, label: str, params: Sequence[float], index: int) -> Value:
    """Neuron ``label``'s own graph on training point ``index`` at ``params``, after backward.

    The neuron ``h = g(b + Σ_j w_j a_j)`` is rebuilt from copies of its weights
    (labelled as in the model) and its inputs ``a_j``, the previous layer's
    outputs on this point (leaves labelled by that layer's neuron labels). The
    root is ``h · c`` with the constant ``c = ∂L/∂h`` from the whole network's
    backward pass, so ``backward`` from the root gives each weight exactly its
    ∂L/∂w = c · g'(z) · a_j, the same floats as the full pass.

    A neuron of more than FOLD_ABOVE inputs keeps its SHOWN_TERMS largest
    terms |w_j a_j| as the chain ``b + w·a + …``; the other terms are one leaf,
    labelled with how many it holds and holding their sum. Its weights' gradients
    are the same (∂z/∂w_j = a_j whatever else z adds); z, summed in another order,
    may differ from the network's in the last bit.
    """
    layer_index, neuron_index = _position(builder, label)
    trained = builder.layers[layer_index].neurons[neuron_index]
    passed = builder.sample_pass(params, index)
    inputs = passed["out"][layer_index]
    names = (
        [f"in.{j}" for j in range(builder.nin)]
        if layer_index == 0
        else [n.name for n in builder.layers[layer_index - 1].neurons]
    )
    W, B, _ = builder.arrays(params)[layer_index]
    w = [float(v) for v in W[neuron_index]]
    terms = list(range(len(w)))
    if len(w) > FOLD_ABOVE:
        terms = sorted(terms, key=lambda j: -abs(w[j] * inputs[j]))[:SHOWN_TERMS]
        terms.sort()
    z = Value(float(B[neuron_index]), label=trained.b.label)
    for j in terms:
        z = z + Value(w[j], label=trained.w[j].label) * Value(inputs[j], label=names[j])
    others = [j for j in range(len(w)) if j not in set(terms)]
    if others:
        rest = math.fsum(w[j] * inputs[j] for j in others)
        z = z + Value(rest, label=f"Σ w·a of the other {len(others)} inputs")
    activation = trained.activation
    h = z if activation == "linear" else getattr(z, activation)()
    h.label = trained.name
    upstream = passed["dh"][layer_index][neuron_index]
    root = h * upstream
    root.label = f"(∂L/∂{trained.name})·{trained.name}"
    root.backward()
    return root


def _position(builder: NetworkData, label: str) -> tuple[int, int]:
    for i, layer in enumerate(builder.layers):
        for j, n in enumerate(layer.neurons):
            if n.name == label:
                return i, j
    raise ValueError(f"viz.network: no neuron {label!r} in the model (e.g. 'L0.N0')")
