"""``grad``: derivatives of one output with respect to chosen inputs, like
``torch.autograd.grad``, optionally as differentiable Values (any order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import value as _value_module
from .ops import OPS
from .value import Value, _check, topological_order


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
    anomaly = _value_module._anomaly
    grads: dict[Value, Any] = {output: 1.0}
    for v in reversed(topological_order(output)):
        g = grads.get(v)
        if g is None or not v.parents:
            continue
        local = OPS[v.op].rule(v, *v.parents) if create_graph else (v._da, v._db)
        for p, d in zip(v.parents, local):
            contribution = d * g
            if anomaly:
                _check(contribution, v.op, "backward")
            grads[p] = grads[p] + contribution if p in grads else contribution
    result = []
    for x in inputs:
        g = grads.get(x, 0.0)
        result.append(g if isinstance(g, Value) else Value(g))
    return result
