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
    anomaly = _mode() & ANOMALY
    grads: dict[Value, Any] = {output: 1.0}
    for v in reversed(topological_order(output)):
        g = grads.get(v)
        if g is None or not v.parents:
            continue
        local = OPS[v.op].rule(v, *v.parents) if create_graph else (v._da, v._db)
        for p, d in zip(v.parents, local):
            # A zero local derivative adds nothing, even times an inf/NaN gradient. With
            # create_graph a slope that is a Value equal to 0 is kept when g is finite:
            # its product is 0 but still has derivatives.
            if d.__class__ is Value:
                if not d.data and not math.isfinite(_data(g)):
                    continue
            elif not d:
                continue
            contribution = d * g
            if anomaly:
                _check(contribution, v.op, "backward")
            grads[p] = grads[p] + contribution if p in grads else contribution
    result = []
    for x in inputs:
        g = grads.get(x, 0.0)
        result.append(g if isinstance(g, Value) else Value(g))
    return result
