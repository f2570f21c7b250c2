"""Softmax and loss functions on scalar Values, stable for large logits.

Classification losses take a *target* that is either a class index ``ℓ`` or a
list of probabilities ``y`` (one-hot or soft, summing to 1); a class index
means the one-hot ``y = e_ℓ``. Terms with ``y_k = 0`` are skipped
(``0·log 0 = 0``), so they add no nodes to the graph.

A target may also be given as Values (a list of k Values for the classes, a
Value for an element-wise loss): then it is part of the graph, every term is
computed whatever its number, and the graph's shape does not depend on the
data. That is what ``autograd_lite.compile`` needs (it passes a class index
as its one-hot row).

Element-wise losses (``binary_cross_entropy``, ``..._with_logits``, ``mse``,
``hinge``) take a single prediction and target, or two equally long lists,
and then return the mean over the elements (torch's ``reduction='mean'``).

Graphs are kept small: sums are one chain of additions starting at the first
term (never at 0), and a Value is created for each number only once.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from autograd_lite import Value

Target = int | Sequence[float]

# log is clamped below at −100, as torch's binary_cross_entropy does, so p = 0 or 1 stays finite.
_LOG_FLOOR = math.exp(-100.0)


def _values(xs: Any, what: str) -> list[Value]:
    if isinstance(xs, Value) or isinstance(xs, numbers.Real) or not hasattr(xs, "__len__"):
        raise TypeError(f"{what} must be a list of Values or numbers, got {xs!r}")
    if len(xs) == 0:
        raise ValueError(f"{what} is empty: need at least one value")
    return [x if x.__class__ is Value else Value(x) for x in xs]


def _sum(terms: Sequence[Value]) -> Value:
    """t0 + t1 + ... as one chain of additions (no leading 0)."""
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def _max(zs: Sequence[Value]) -> Value:
    """max_k z_k with the engine's max op (its gradient goes to the largest)."""
    m = zs[0]
    for z in zs[1:]:
        m = m.max(z)
    return m


def target_weights(target: Any, k: int) -> list[tuple[int, Any]]:
    """The non-zero entries ``(i, y_i)`` of a target over ``k`` classes.

    A class index ℓ gives ``[(ℓ, 1.0)]``; a list of probabilities gives its
    non-zero entries, a list of Values all k entries (as Values). Raises
    ValueError for an index out of range, a list of the wrong length, a
    negative entry or entries not summing to 1.
    """
    if isinstance(target, Value):
        raise TypeError(
            "a class index cannot be a Value: pass the one-hot target as a list of "
            f"{k} Values (as compile does)"
        )
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        t = int(target)
        if not 0 <= t < k:
            raise ValueError(f"target class {t} is out of range for {k} classes (0..{k - 1})")
        return [(t, 1.0)]
    if isinstance(target, (str, bytes)) or not hasattr(target, "__len__"):
        raise ValueError(
            f"target must be a class index (int) or a list of {k} probabilities, got {target!r}"
        )
    if len(target) != k:
        raise ValueError(f"target has {len(target)} probabilities but there are {k} classes")
    ys = [float(y) for y in target]
    if not all(math.isfinite(y) and y >= 0.0 for y in ys):
        raise ValueError(f"target probabilities must be finite and ≥ 0, got {ys}")
    if abs(math.fsum(ys) - 1.0) > 1e-6:
        raise ValueError(f"target probabilities must sum to 1, got sum {math.fsum(ys)!r}")
    if any(isinstance(y, Value) for y in target):  # in the graph: keep every term
        return [(i, y if isinstance(y, Value) else Value(y)) for i, y in enumerate(target)]
    return [(i, y) for i, y in enumerate(ys) if y != 0.0]


def softmax(logits: Sequence[Any]) -> list[Value]:
    """a_i = e^{z_i − m} / Σ_k e^{z_k − m} with m = max_k z_k (same as e^{z_i} / Σ_k e^{z_k}).

    Subtracting the max (the engine's ``max`` op) keeps every exponent ≤ 0,
    so nothing overflows. Jacobian: ∂a_i/∂z_j = a_i(1 − a_i) if i = j, −a_i a_j if i ≠ j.
    """
    zs = _values(logits, "softmax: logits")
    m = _max(zs)
    es = [(z - m).exp() for z in zs]
    total = _sum(es)
    return [e / total for e in es]


def log_softmax(logits: Sequence[Any]) -> list[Value]:
    """log a_i = (z_i − m) − log Σ_k e^{z_k − m}, m = max_k z_k.

    Stable for logits in the thousands: the largest shifted logit is 0, so the
    sum is in [1, k] and no exponential overflows or takes the log of 0.
    ∂ log a_i / ∂z_j = 1[i = j] − a_j.
    """
    zs = _values(logits, "log_softmax: logits")
    m = _max(zs)
    shifted = [z - m for z in zs]
    lse = _sum([s.exp() for s in shifted]).log()
    return [s - lse for s in shifted]


def cross_entropy(probs: Sequence[Any], target: Target) -> Value:
    """L = −Σ_k y_k log p_k over the terms with y_k ≠ 0 (a class index ℓ: L = −log p_ℓ).

    ``probs`` are probabilities (e.g. ``softmax(z)``); chained through the
    softmax, ∂L/∂z = a − y. Prefer ``softmax_cross_entropy`` on logits: it is
    fused, smaller and stable.
    """
    ps = _values(probs, "cross_entropy: probs")
    terms = [p.log() if _is_one(y) else p.log() * y for p, y in _picked(ps, target)]
    return -_sum(terms)


def softmax_cross_entropy(logits: Sequence[Any], target: Target) -> Value:
    """L = −Σ_k y_k log softmax(z)_k = logsumexp(z) − z_ℓ for a class index ℓ.

    Fused and stable: with m = max_k z_k, L = Σ_k y_k [log Σ_j e^{z_j − m} − (z_k − m)].
    Gradient: ∂L/∂z = softmax(z) − y (for Σ_k y_k = 1).
    """
    zs = _values(logits, "softmax_cross_entropy: logits")
    picked = target_weights(target, len(zs))
    m = _max(zs)
    shifted = [z - m for z in zs]
    lse = _sum([s.exp() for s in shifted]).log()
    terms = [lse - shifted[k] if _is_one(y) else (lse - shifted[k]) * y for k, y in picked]
    return _sum(terms)


def _is_one(y: Any) -> bool:
    """A target weight of exactly 1.0 given as a number (a Value is always multiplied)."""
    return not isinstance(y, Value) and y == 1.0


def _picked(values: list[Value], target: Any) -> list[tuple[Value, float]]:
    return [(values[k], y) for k, y in target_weights(target, len(values))]


def _elementwise(name: str, fn: Callable[[Value, Any], Value], pred: Any, target: Any) -> Value:
    """fn on one (prediction, target) pair, or the mean of fn over two equal-length lists."""
    if isinstance(pred, Value) or isinstance(pred, numbers.Real):
        if hasattr(target, "__len__"):
            raise ValueError(f"{name}: one prediction but a target of length {len(target)}")
        return fn(pred if pred.__class__ is Value else Value(pred), _number(name, target))
    preds = list(pred)
    if len(preds) == 1 and not hasattr(target, "__len__"):
        target = [target]
    if not hasattr(target, "__len__") or len(target) != len(preds):
        raise ValueError(f"{name}: {len(preds)} predictions but target is {target!r}")
    if not preds:
        raise ValueError(f"{name}: no predictions")
    losses = [
        fn(p if p.__class__ is Value else Value(p), _number(name, t)) for p, t in zip(preds, target)
    ]
    return losses[0] if len(losses) == 1 else _sum(losses) * (1.0 / len(losses))


def _number(name: str, t: Any) -> float | Value:
    """A target as a float, or as is when it is a Value (then it stays in the graph)."""
    data = t.data if isinstance(t, Value) else t
    if isinstance(data, (str, bytes)) or not isinstance(data, numbers.Real):
        raise ValueError(f"{name}: target must be a finite number, got {t!r}")
    if not math.isfinite(data):
        raise ValueError(f"{name}: target must be a finite number, got {t!r}")
    return t if isinstance(t, Value) else float(t)


def _bce(p: Value, y: Any) -> Value:
    if not 0.0 <= float(y) <= 1.0:
        raise ValueError(f"binary_cross_entropy: target must be in [0, 1], got {y!r}")
    if isinstance(y, Value):  # both terms, whatever y's number
        return -(p.max(_LOG_FLOOR).log() * y + (1.0 - p).max(_LOG_FLOOR).log() * (1.0 - y))
    terms = []
    if y != 0.0:
        terms.append(p.max(_LOG_FLOOR).log() * y)
    if y != 1.0:
        terms.append((1.0 - p).max(_LOG_FLOOR).log() * (1.0 - y))
    return -_sum(terms)


def binary_cross_entropy(p: Any, y: Any) -> Value:
    """J = −(y log p + (1 − y) log(1 − p)) for a probability p and a target y ∈ [0, 1].

    ∂J/∂p = −(y/p − (1 − y)/(1 − p)); through p = σ(z), ∂J/∂z = p − y.
    Each log is clamped at −100 (as torch does), so p = 0 or 1 gives a large
    finite loss. Prefer ``binary_cross_entropy_with_logits`` on the logit z.
    """
    return _elementwise("binary_cross_entropy", _bce, p, y)


def _bce_logits(z: Value, y: Any) -> Value:
    if not 0.0 <= float(y) <= 1.0:
        raise ValueError(f"binary_cross_entropy_with_logits: target must be in [0, 1], got {y!r}")
    # log(1 + e^z) − y·z = (1 − y)·max(z, 0) + y·max(−z, 0) + log(1 + e^−|z|): every term
    # is ≥ 0 (nothing cancels), the exponent is ≤ 0 (nothing overflows), and the graph is
    # the same for every z (no branch on the data). With |z| = max(z, −z), the max op's
    # ½/½ split at z = 0 gives ∂J/∂z = ½ − y = σ(0) − y there, as everywhere σ(z) − y.
    nz = -z
    loss = (1.0 + (-z.max(nz)).exp()).log()
    if isinstance(y, Value):
        return z.max(0.0) * (1.0 - y) + nz.max(0.0) * y + loss
    if y != 1.0:
        loss = (z.max(0.0) if y == 0.0 else z.max(0.0) * (1.0 - y)) + loss
    if y != 0.0:
        loss = (nz.max(0.0) if y == 1.0 else nz.max(0.0) * y) + loss
    return loss


def binary_cross_entropy_with_logits(z: Any, y: Any) -> Value:
    """J = −(y log σ(z) + (1 − y) log(1 − σ(z))) = log(1 + e^z) − y·z, on the logit z.

    Stable for any z (the exponent is always −|z|). ∂J/∂z = σ(z) − y.
    """
    return _elementwise("binary_cross_entropy_with_logits", _bce_logits, z, y)


def _squared_error(p: Value, t: Any) -> Value:
    d = p - t
    return d * d


def mse(pred: Any, target: Any) -> Value:
    """Mean squared error (1/n) Σ_i (p_i − t_i)²; ∂/∂p_i = 2(p_i − t_i)/n."""
    return _elementwise("mse", _squared_error, pred, target)


def _hinge(s: Value, y: Any) -> Value:
    if float(y) not in (-1.0, 0.0, 1.0):
        raise ValueError(f"hinge: label must be −1 or +1 (or 0 for −1), got {y!r}")
    if isinstance(y, Value):  # 0/1 labels as −1/+1 in the graph: 2·relu(y) − 1 is −1, −1, 1
        return (1.0 - s * (2.0 * y.relu() - 1.0)).relu()
    if y == 0.0:
        y = -1.0  # labels 0/1 are read as −1/+1
    return (1.0 - s * y).relu()


def hinge(score: Any, y: Any) -> Value:
    """Hinge (SVM) loss max(0, 1 − y·s) for a score s and a label y ∈ {−1, +1}.

    A label 0 is read as −1, so 0/1 class labels work too. ∂/∂s = −y if y·s < 1, else 0.
    """
    return _elementwise("hinge", _hinge, score, y)
