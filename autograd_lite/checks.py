"""Whole-function tools: ``jacobian``, ``hessian`` and ``gradcheck``.

Each takes ``f``, a function of a list of Values (one per input number) that
returns a Value or a list of Values, and the input numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .grad import grad
from .value import Value, _data, _to_float, no_grad

Function = Callable[[list[Value]], Any]


class GradcheckError(RuntimeError):
    """The automatic and the numerical Jacobian disagree."""


def _leaves(inputs: Sequence[Any]) -> list[Value]:
    return [Value(_data(x), label=f"x{i}") for i, x in enumerate(inputs)]


def _outputs(f: Function, xs: list[Value]) -> list[Value]:
    out = f(xs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    return [o if isinstance(o, Value) else Value(o) for o in outs]


def jacobian(f: Function, inputs: Sequence[Any]) -> list[list[float]]:
    """J[i][j] = ∂ f_i / ∂ x_j, by reverse mode (one pass per output)."""
    xs = _leaves(inputs)
    return [[g.data for g in grad(o, xs)] for o in _outputs(f, xs)]


def hessian(f: Function, inputs: Sequence[Any]) -> list[list[float]]:
    """H[i][j] = ∂² f / ∂ x_i ∂ x_j of a scalar f, by differentiating the gradient."""
    xs = _leaves(inputs)
    outs = _outputs(f, xs)
    if len(outs) != 1:
        raise ValueError(f"hessian: f must return one Value, got {len(outs)}")
    first = grad(outs[0], xs, create_graph=True)
    return [[h.data for h in grad(g, xs)] for g in first]


def numerical_jacobian(f: Function, inputs: Sequence[Any], eps: float = 1e-6) -> list[list[float]]:
    """J[i][j] ≈ (f_i(x + eps·e_j) − f_i(x − eps·e_j)) / 2eps (central differences)."""
    base = [_to_float(_data(x)) for x in inputs]

    def at(j: int, step: float) -> list[float]:
        shifted = list(base)
        shifted[j] += step
        with no_grad():
            return [o.data for o in _outputs(f, _leaves(shifted))]

    columns = []
    for j in range(len(base)):
        plus, minus = at(j, eps), at(j, -eps)
        columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(_outputs(f, _leaves(base)))
    return [[columns[j][i] for j in range(len(base))] for i in range(n_out)]


def gradcheck(
    f: Function,
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare the automatic Jacobian with central differences, like torch.autograd.gradcheck.

    Passes when |analytical − numerical| ≤ atol + rtol·|numerical| for every
    output i and input j. Otherwise raises GradcheckError naming the output,
    the input and both values (or returns False if ``raise_exception=False``).
    """
    analytical = jacobian(f, inputs)
    numerical = numerical_jacobian(f, inputs, eps)
    for i, (a_row, n_row) in enumerate(zip(analytical, numerical)):
        for j, (a, n) in enumerate(zip(a_row, n_row)):
            if not abs(a - n) <= atol + rtol * abs(n):
                if raise_exception:
                    raise GradcheckError(
                        f"gradcheck: Jacobian mismatch for output {i} with respect to input {j}: "
                        f"numerical {n!r}, analytical {a!r} "
                        f"(|difference| {abs(a - n):.3g} > atol + rtol·|numerical| = "
                        f"{atol + rtol * abs(n):.3g})"
                    )
                return False
    return True
