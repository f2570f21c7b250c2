"""``grad``: derivatives of one output with respect to chosen inputs, like
``torch.autograd.grad``, optionally as differentiable Values (any order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .ops import OPS
from .value import ANOMALY, Value, _check, _data, _mode, topological_order


def grad(
    output: Value,
    inputs: Value | Sequence[Value],
    *,
    create_graph: bool = False,
) -> list[Value]:
    """Return ``[d output / d x for x in inputs]`` as Values; ``.grad`` fields are untouched.

    With ``create_graph=True`` each derivative is built from Values by the op
    table's rules, so it can be differentiated again (second, third, ...
    derivatives). An input the output does not depend on gets ``Value(0.0)``.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    inputs = [inputs] if isinstance(inputs, Value) else list(inputs)
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"grad: every input must be a Value, got {type(x).__name__}")
    order = topological_order(output)
    if create_graph:
        grads = _differentiable(order, output)
    elif _mode() & ANOMALY:
        grads = _checked(order, output)
    else:
        grads = _first_order(order, output)
    result = []
    for x in inputs:
        g = grads.get(x, 0.0)
        result.append(g if isinstance(g, Value) else Value(g))
    return result


def _first_order(order: list[Value], output: Value) -> dict[Value, Any]:
    """backward's loop on a dict instead of the .grad fields (same numbers, bit for bit)."""
    grads: dict[Value, float] = {output: 1.0}
    get = grads.get
    for v in reversed(order):
        a = v._a
        if a is None:
            continue
        g = get(v)
        if not g:  # not reached, or 0: passes nothing on (0 × anything = 0)
            continue
        d = v._da
        if d:
            grads[a] = get(a, 0.0) + d * g
        b = v._b
        if b is not None:
            d = v._db
            if d:
                grads[b] = get(b, 0.0) + d * g
    return grads


def _checked(order: list[Value], output: Value) -> dict[Value, Any]:
    """_first_order inside detect_anomaly: every contribution is checked."""
    grads: dict[Value, float] = {output: 1.0}
    for v in reversed(order):
        g = grads.get(v)
        if not g or v._a is None:
            continue
        for p, d in zip(v.parents, (v._da, v._db)):
            if d:
                contribution = d * g
                _check(contribution, v.op, "backward")
                grads[p] = grads.get(p, 0.0) + contribution
    return grads


def _differentiable(order: list[Value], output: Value) -> dict[Value, Any]:
    """The gradient as Values built by the op table's rules (create_graph=True).

    0 × anything = 0 as in backward, but a product of Values that is 0 is kept
    unless the other factor is inf/NaN: it is 0 yet still has derivatives.
    """
    anomaly = _mode() & ANOMALY
    grads: dict[Value, Any] = {output: 1.0}
    for v in reversed(order):
        g = grads.get(v)
        if g is None or not v.parents:
            continue
        g_data = _data(g)
        if not g_data and g.__class__ is not Value:
            continue
        for p, d in zip(v.parents, OPS[v.op].rule(v, *v.parents)):
            d_data = _data(d)
            if not d_data and (d.__class__ is not Value or not math.isfinite(g_data)):
                continue
            if not g_data and not math.isfinite(d_data):
                continue
            contribution = d * g
            if anomaly:
                _check(contribution, v.op, "backward")
            grads[p] = grads[p] + contribution if p in grads else contribution
    return grads
