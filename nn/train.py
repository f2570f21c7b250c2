"""``fit``: train a model on (X, y) with mini-batches, an optimizer and a progress bar.

Each step builds one graph: the model's outputs on a batch, the mean of the
per-point losses, ``backward``, then ``optimizer.step()``. The loss is a
callable ``loss(output, target) -> Value`` or the name of one of nn's losses:

- ``"softmax_cross_entropy"`` (the default): one logit per class, y class indices;
- ``"hinge"`` or ``"binary_cross_entropy_with_logits"``: a 1-output model
  (a score or logit), y in {0, 1} (hinge also takes −1/+1);
- ``"mse"``: regression; accuracy then reads an output above 0.5 as class 1.

``evaluate`` and ``predict`` run the model under ``no_grad`` (no graph is kept).

A run that diverges (a batch loss or a parameter becomes infinite or NaN,
typically from a learning rate too large) stops at once with
:class:`DivergenceError`, naming the epoch, instead of training on NaN.
"""

from __future__ import annotations

import gc
import math
import numbers
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autograd_lite import Value, no_grad

from . import losses as _losses
from .metrics import predicted_class, true_class
from .module import Module
from .optim import SGD, Adam, AdamW, Optimizer

if TYPE_CHECKING:  # numpy and tqdm are imported where used, so `import nn` stays quick
    import numpy as np

LossFn = Callable[[Any, Any], Value]

# name -> (loss, threshold that turns a single output into class 1)
LOSSES: dict[str, tuple[LossFn, float]] = {
    "softmax_cross_entropy": (_losses.softmax_cross_entropy, 0.0),
    "hinge": (_losses.hinge, 0.0),
    "binary_cross_entropy_with_logits": (_losses.binary_cross_entropy_with_logits, 0.0),
    "mse": (_losses.mse, 0.5),
}


class DivergenceError(FloatingPointError):
    """Training produced an infinite or NaN loss or parameter: the run diverged.

    ``epoch`` is the (1-based) epoch it happened in, ``history`` the complete
    epochs before it.
    """

    def __init__(self, message: str, *, epoch: int, history: History) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.history = history


@dataclass
class History:
    """Per-epoch mean training loss, training accuracy and seconds.

    Loss and accuracy are averaged over the epoch's batches, measured on the
    forward pass of each batch (before its update), as Keras reports them.
    ``snapshots`` (with ``fit(..., record=...)``) holds ``(epoch, params)``: the
    parameters' floats in ``model.parameters()`` order after that epoch (0: before
    training).
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    snapshots: list[tuple[int, list[float]]] = field(default_factory=list)


# fit(record=...) refuses to keep more floats than this (8 bytes each: 400 MB).
MAX_RECORDED_FLOATS = 50_000_000


def _record_every(record: bool | int) -> int:
    """0 for no recording, else k: a snapshot every k-th epoch (True means every epoch)."""
    if record is True:
        return 1
    if record is False or record is None:
        return 0
    if isinstance(record, bool) or not isinstance(record, int) or record < 1:
        raise ValueError(f"fit: record must be True, False or an integer k ≥ 1, got {record!r}")
    return record


def recorded_epochs(epochs: int, every: int) -> list[int]:
    """The epochs ``fit(record=every)`` snapshots: 0, then every ``every``-th, and the last."""
    if every <= 0:
        return []
    kept = list(range(0, epochs + 1, every))
    if kept[-1] != epochs:
        kept.append(epochs)
    return kept


def resolve_loss(loss: str | LossFn, threshold: float | None = None) -> tuple[LossFn, float]:
    """The loss callable and its decision threshold, from a name or a callable."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            choices = ", ".join(repr(k) for k in LOSSES)
            raise ValueError(f"unknown loss {loss!r}; choose one of {choices} or pass a function")
        fn, default = LOSSES[loss]
    elif callable(loss):
        fn, default = loss, 0.5 if loss is _losses.mse else 0.0
    else:
        raise TypeError(f"loss must be a name or a function, got {loss!r}")
    return fn, default if threshold is None else float(threshold)


def _rows(X: Any) -> list[list[float]]:
    rows = [[float(v) for v in row] for row in X]
    if not rows:
        raise ValueError("fit: X is empty")
    from .data import check_finite  # nn.data (NumPy) is imported on first use

    check_finite(rows, "fit: X")  # a NaN would otherwise read as a diverging run
    return rows


def _targets(y: Any, n: int) -> list[Any]:
    targets = y.tolist() if hasattr(y, "tolist") else list(y)
    if len(targets) != n:
        raise ValueError(f"X has {n} rows but y has {len(targets)} labels")
    return targets


def _batch_loss(
    model: Module,
    rows: Sequence[list[float]],
    targets: Sequence[Any],
    loss_fn: LossFn,
    threshold: float,
) -> tuple[Value, int]:
    """The mean loss over a batch (one chain of additions), and the number classified right."""
    total: Value | None = None
    correct = 0
    for x, t in zip(rows, targets):
        out = model(x)
        point = loss_fn(out, t)
        total = point if total is None else total + point
        correct += predicted_class(out, threshold) == true_class(t)
    if total is None:
        raise ValueError("empty batch")
    return (total * (1.0 / len(rows)) if len(rows) > 1 else total), correct


def _scalar_step(
    model: Module, rows: list[list[float]], targets: list[Any], loss_fn: LossFn, threshold: float
) -> Callable[[list[int]], tuple[float, int]]:
    """``step(batch)``: the batch's graph, ``backward``; (mean loss, number classified right)."""

    def step(batch: list[int]) -> tuple[float, int]:
        total, right = _batch_loss(
            model, [rows[j] for j in batch], [targets[j] for j in batch], loss_fn, threshold
        )
        total.backward()
        return total.data, right

    return step


def _compiled_step(
    model: Module,
    rows: list[list[float]],
    targets: list[Any],
    loss_fn: LossFn,
    threshold: float,
    flat: list[Any] | None = None,
) -> Callable[[list[int]], tuple[float, int]]:
    """The same step through ``autograd_lite.compile``: one sample's graph, replayed.

    Targets become rows of Values: a class index (for a model with k > 1
    outputs) its one-hot row, a number a row of one, a list of probabilities itself.
    With ``flat`` (a list), the step works on the compiled step's flat parameter
    array (``compiled.flat``): ``flat`` receives the compiled step, then each call's
    gradient array replaces ``flat[1:]``; no Value is read or written.
    """
    import numpy as np

    from autograd_lite import compile

    _check_targets(model, rows, targets, loss_fn)
    X = np.asarray(rows, dtype=np.float64)
    with no_grad():
        first = model(rows[0])
    k = 1 if isinstance(first, Value) else len(first)
    if all(isinstance(t, numbers.Integral) and not isinstance(t, bool) for t in targets) and k > 1:
        Y = np.zeros((len(targets), k))
        Y[np.arange(len(targets)), np.asarray(targets, dtype=np.intp)] = 1.0
        one = False
    elif all(isinstance(t, numbers.Real) for t in targets):
        Y, one = np.asarray(targets, dtype=np.float64)[:, None], True
    else:
        Y, one = np.asarray(targets, dtype=np.float64), False

    def per_sample(x: list[Value], y: list[Value]) -> tuple[Value, list[Value]]:
        out = model(x)
        return loss_fn(out, y[0] if one else y), [out] if isinstance(out, Value) else out

    compiled = compile(per_sample, model.parameters(), has_aux=True)
    labels = [true_class(t) for t in targets]

    if flat is not None:
        flat[:] = [compiled, None]

    def step(batch: list[int]) -> tuple[float, int]:
        if flat is None:
            value, outputs = compiled(X[batch], Y[batch])
        else:
            value, flat[1] = compiled.flat(X[batch], Y[batch])
            outputs = compiled.aux
        right = sum(
            predicted_class(o, threshold) == labels[j] for o, j in zip(outputs.tolist(), batch)
        )
        return value, right

    return step


def _check_targets(
    model: Module, rows: list[list[float]], targets: list[Any], loss_fn: LossFn
) -> None:
    """Raise what the scalar path raises for a bad target, before any compiled step.

    The replay passes targets as rows of numbers, so the loss's own checks (a class
    index in range, a hinge label in {−1, 0, 1}, a finite regression target) would run
    only on the traced sample. The distinct targets are found at once with NumPy; the
    scalar loss runs on the first row of each (at most 256; beyond, on the rows of the
    smallest, the largest and any non-finite target), so every message is the scalar
    path's own.
    """
    import numpy as np

    try:
        T = np.asarray(targets, dtype=np.float64)
    except (TypeError, ValueError):  # ragged lists: the scalar loss says what is wrong
        checked = range(len(targets))
    else:
        flat = T.reshape(len(T), -1)
        _, first = np.unique(flat, axis=0, return_index=True)
        if len(first) > 256:
            bad = np.flatnonzero(~np.isfinite(flat).all(axis=1))[:1]
            first = np.concatenate([bad, flat.argmin(axis=0), flat.argmax(axis=0)])
        checked = sorted({int(j) for j in first})
    with no_grad():
        for j in checked:
            loss_fn(model(rows[j]), targets[j])


class _FlatOptimizer:
    """Stands in for an nn optimizer (SGD, Adam, AdamW) while ``fit(compile=True)``
    trains: the same update, float for float, on the compiled step's flat array θ.

    The plain version is ``optimizer.step()`` on the Values, a Python loop over every
    parameter at every step (≈ 0.4 ms for 2,410 parameters); here a step is a few
    NumPy calls, and ``sync()`` (once an epoch, and when training stops) writes θ back
    into ``p.data``, the last gradient into ``p.grad`` (as ``backward`` would have
    left it) and the optimizer's state into its lists.
    """

    KINDS = (SGD, Adam, AdamW)

    def __init__(self, optimizer: Optimizer, flat: list[Any]) -> None:
        import numpy as np

        self.optimizer, self.flat, self.lr = optimizer, flat, optimizer.lr
        compiled = flat[0]
        compiled.pull()
        self.state: dict[str, Any] = {}
        for name in ("m", "v", "velocity"):
            value = getattr(optimizer, name, None)
            if value is not None:
                self.state[name] = np.array(value, dtype=np.float64)

    @classmethod
    def usable(cls, optimizer: Optimizer, parameters: list[Value]) -> bool:
        """For nn's own optimizers over exactly the model's parameters, in order."""
        return (
            type(optimizer) in cls.KINDS
            and len(optimizer.params) == len(parameters)
            and all(a is b for a, b in zip(optimizer.params, parameters))
        )

    def zero_grad(self) -> None:
        """Nothing to do: each step's gradient array is computed afresh."""

    def step(self) -> None:
        """θ ← the optimizer's rule (nn.optim, written on arrays, in the same order of
        operations, so the floats are the same)."""
        import numpy as np

        opt, theta, g = self.optimizer, self.flat[0].theta, self.flat[1]
        if isinstance(opt, SGD):
            if opt.weight_decay:
                g = g + opt.weight_decay * theta
            if opt.momentum == 0.0:
                theta -= opt.lr * g
                return
            v = self.state.get("velocity")
            v = g.copy() if v is None else opt.momentum * v + g
            self.state["velocity"] = v
            theta -= opt.lr * v
            return
        decoupled = isinstance(opt, AdamW)
        opt.t += 1
        beta1, beta2 = opt.betas
        step_size = opt.lr / (1.0 - beta1**opt.t)
        root_c2 = math.sqrt(1.0 - beta2**opt.t)
        if opt.weight_decay and not decoupled:
            g = g + opt.weight_decay * theta
        if decoupled and opt.lr * opt.weight_decay != 0.0:
            theta *= 1.0 - opt.lr * opt.weight_decay
        m = self.state["m"] = beta1 * self.state["m"] + (1.0 - beta1) * g
        v = self.state["v"] = beta2 * self.state["v"] + (1.0 - beta2) * g * g
        theta -= step_size * m / (np.sqrt(v) / root_c2 + opt.eps)

    def sync(self) -> None:
        """The Values, their gradients and the optimizer's lists from the arrays."""
        compiled, grad = self.flat
        compiled.push()
        if grad is not None:
            for p, g in zip(compiled.params, grad.tolist()):
                p.grad = g
        for name, value in self.state.items():
            setattr(self.optimizer, name, value.tolist())


def fit(
    model: Module,
    X: Any,
    y: Any,
    *,
    loss: str | LossFn = "softmax_cross_entropy",
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    progress: bool = True,
    seed: int = 0,
    threshold: float | None = None,
    callback: Callable[[int, History], None] | None = None,
    compile: bool = False,
    record: bool | int = False,
) -> History:
    """Train ``model`` on rows of ``X`` with labels ``y``; return the History.

    ``optimizer`` defaults to ``Adam(model.parameters(), lr=0.01)``;
    ``batch_size=None`` means the full batch. Batches are drawn from a
    shuffle seeded by ``seed``. The progress bar (tqdm, on stderr) shows the
    epoch's loss and accuracy; ``progress=False`` turns it off.
    ``callback(epoch, history)`` runs after each epoch (e.g. to draw).

    ``compile=True`` computes each step with ``autograd_lite.compile`` (one
    sample's graph traced once and replayed over the batch with NumPy): the
    same losses, gradients and history to rounding, many times faster. With it
    a class index reaches a custom ``loss`` as its one-hot row of Values.

    ``record=True`` keeps ``history.snapshots``, a list of ``(epoch, params)``
    with ``params`` the floats of ``model.parameters()`` in order: epoch 0
    (before training), then after every epoch; ``record=k`` keeps every k-th
    epoch and always the last. A recording of more than ``MAX_RECORDED_FLOATS``
    (50 million) floats is refused with a ValueError before training starts.

    Python's cyclic garbage collector is paused while training: a graph of
    Values has no reference cycles (parents point one way), so reference
    counting frees it, and the collector would otherwise rescan every node of
    a large graph again and again (full-batch epochs run about twice as fast).
    """
    loss_fn, threshold = resolve_loss(loss, threshold)
    rows = _rows(X)
    targets = _targets(y, len(rows))
    n = len(rows)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an integer ≥ 0, got {epochs!r}")
    size = n if batch_size is None else int(batch_size)
    if size < 1:
        raise ValueError(f"batch_size must be ≥ 1 or None (full batch), got {batch_size!r}")
    if optimizer is None:
        optimizer = Adam(model.parameters(), lr=0.01)
    parameters = model.parameters()
    every = _record_every(record)
    kept = recorded_epochs(epochs, every)
    if len(kept) * len(parameters) > MAX_RECORDED_FLOATS:
        raise ValueError(
            f"fit: record={record!r} would keep {len(kept):,} snapshots × {len(parameters):,} "
            f"parameters = {len(kept) * len(parameters):,} floats, more than the limit "
            f"{MAX_RECORDED_FLOATS:,}; record every k-th epoch with record=k"
        )
    keep = set(kept)
    flat: list[Any] | None = None
    if compile:  # nn's optimizers update the compiled step's flat array (_FlatOptimizer)
        flat = [] if _FlatOptimizer.usable(optimizer, parameters) else None
        step = _compiled_step(model, rows, targets, loss_fn, threshold, flat)
        if flat is not None:
            optimizer = _FlatOptimizer(optimizer, flat)  # type: ignore[assignment]
    else:
        step = _scalar_step(model, rows, targets, loss_fn, threshold)
    sync = getattr(optimizer, "sync", lambda: None)
    rng = random.Random(seed)
    order = list(range(n))
    history = History()
    if 0 in keep:
        history.snapshots.append((0, [p.data for p in parameters]))
    collecting = gc.isenabled()
    from tqdm import tqdm

    bar = tqdm(range(epochs), desc="train", unit="epoch", file=sys.stderr, disable=not progress)
    try:
        gc.disable()
        for epoch in bar:
            start = time.perf_counter()
            if size < n:
                rng.shuffle(order)
            epoch_loss, correct = 0.0, 0
            for i in range(0, n, size):
                batch = order[i : i + size]
                optimizer.zero_grad()
                value, right = step(batch)  # the mean loss; its gradient added to .grad
                if not math.isfinite(value):
                    _diverged(f"the loss of a batch is {value}", epoch, optimizer, history)
                optimizer.step()
                epoch_loss += value * len(batch)
                correct += right
            sync()  # the flat path's parameters back into the Values, once an epoch
            bad = next((p for p in parameters if not math.isfinite(p.data)), None)
            if bad is not None:
                what = f"parameter {bad.label or '(unlabelled)'} is {bad.data}"
                _diverged(what, epoch, optimizer, history)
            history.loss.append(epoch_loss / n)
            history.accuracy.append(correct / n)
            history.seconds.append(time.perf_counter() - start)
            if epoch + 1 in keep:
                history.snapshots.append((epoch + 1, [p.data for p in parameters]))
            bar.set_postfix(
                loss=f"{history.loss[-1]:.4f}", acc=f"{history.accuracy[-1]:.3f}", refresh=False
            )
            if callback is not None:
                callback(epoch, history)
    finally:
        sync()
        bar.close()
        if collecting:
            gc.enable()
    return history


def _diverged(what: str, epoch: int, optimizer: Optimizer, history: History) -> None:
    lr = getattr(optimizer, "lr", None)
    rate = f" than lr={lr:g}" if isinstance(lr, (int, float)) else ""
    raise DivergenceError(
        f"training diverged in epoch {epoch + 1}: {what}; try a smaller learning rate{rate}",
        epoch=epoch + 1,
        history=history,
    )


def predict(model: Module, X: Any, *, threshold: float = 0.0) -> np.ndarray:
    """The predicted class of every row of X (argmax, or score > threshold), without a graph."""
    import numpy as np

    with no_grad():
        classes = [predicted_class(model([float(v) for v in row]), threshold) for row in X]
    return np.array(classes, dtype=np.int64)


def evaluate(
    model: Module,
    X: Any,
    y: Any,
    *,
    loss: str | LossFn = "softmax_cross_entropy",
    threshold: float | None = None,
    compile: bool = False,
) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` on (X, y), computed under ``no_grad``.

    ``compile=True`` replays one sample's traced graph over all rows with NumPy
    (``autograd_lite.compile``): the same numbers, much faster on large sets.
    The parameters' ``.grad`` are left as they were.
    """
    loss_fn, threshold = resolve_loss(loss, threshold)
    rows = _rows(X)
    targets = _targets(y, len(rows))
    if compile:
        with no_grad():  # the replay evaluates only: no gradient is added
            step = _compiled_step(model, rows, targets, loss_fn, threshold)
            value, right = step(list(range(len(rows))))
        return value, right / len(rows)
    with no_grad():
        total, correct = _batch_loss(model, rows, targets, loss_fn, threshold)
    return total.data, correct / len(rows)
