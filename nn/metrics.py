"""Classification metrics: the predicted class of an output, and accuracy.

A model output is read as a class the usual way: a list of logits or
probabilities gives its argmax; a single score (a Value or a float) gives
class 1 if it is above ``threshold`` (0 for logits and hinge scores, 0.5 for
probabilities), else class 0.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

from autograd_lite import Value


def _data(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)


def predicted_class(output: Any, threshold: float = 0.0) -> int:
    """argmax of a list of outputs; for one score s, 1 if s > threshold else 0.

    An int (or a NumPy integer) is taken to be a class already.
    """
    if isinstance(output, numbers.Integral) and not isinstance(output, bool):
        return int(output)
    if isinstance(output, (Value, numbers.Real)):
        return 1 if _data(output) > threshold else 0
    scores = [_data(o) for o in output]
    if not scores:
        raise ValueError("predicted_class: empty output")
    if len(scores) == 1:
        return 1 if scores[0] > threshold else 0
    return max(range(len(scores)), key=scores.__getitem__)


def true_class(label: Any) -> int:
    """A label as a class: an int as is (−1 read as class 0, for ±1 hinge labels),
    a list of probabilities (one-hot or soft) as its argmax."""
    if isinstance(label, numbers.Real) and not isinstance(label, bool):
        c = int(label)
        if c != label:
            raise ValueError(f"a class label must be an integer, got {label!r}")
        return 0 if c == -1 else c
    probs = [float(p) for p in label]
    return max(range(len(probs)), key=probs.__getitem__)


def accuracy(outputs: Iterable[Any], labels: Sequence[Any], *, threshold: float = 0.0) -> float:
    """The fraction of points whose predicted class equals the label's class.

    ``outputs`` are model outputs (as read by ``predicted_class``) or predicted
    classes; ``labels`` are class indices (0..k−1, or ±1 for a binary
    score) or lists of probabilities.
    """
    predicted = [predicted_class(o, threshold) for o in outputs]
    labels = list(labels)
    if len(predicted) != len(labels):
        raise ValueError(f"accuracy: {len(predicted)} outputs but {len(labels)} labels")
    if not labels:
        raise ValueError("accuracy: no outputs to score")
    return sum(p == true_class(t) for p, t in zip(predicted, labels)) / len(labels)
