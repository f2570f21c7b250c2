"""The op table: every primitive, its forward on floats and its derivative rule.

Each primitive is declared once, as an :class:`Op`:

- ``forward(*xs) -> float`` computes the result on plain floats and raises a
  clear error (naming the op and the value) outside the op's domain;
- ``rule(out, *xs) -> tuple`` gives the *local derivatives* ``d out / d x_i``,
  one per input, from the output and the inputs.

Rules are written with ordinary arithmetic, so the same line works on floats
(the engine calls it at forward time and stores the numbers) and on ``Value``s
(``grad(..., create_graph=True)`` calls it again to build a differentiable
gradient, which is all higher-order derivatives need).

Adding an op means adding one entry here plus a method on ``Value``; the tests
loop over ``OPS`` so the new op is checked the moment it is declared.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, NamedTuple


class Op(NamedTuple):
    """One primitive: its name, its symbol in drawn graphs, forward and rule."""

    name: str
    symbol: str
    forward: Callable[..., float]
    rule: Callable[..., tuple[Any, ...]]


def _div(x: float, y: float) -> float:
    if y == 0:
        raise ZeroDivisionError(f"div: division by zero ({x!r} / {y!r})")
    return x / y


def _pow(x: float, k: float) -> float:
    if x < 0 and not float(k).is_integer():
        raise ValueError(f"pow: negative base {x!r} with non-integer exponent {k!r}")
    if x == 0 and k < 0:
        raise ZeroDivisionError(f"pow: 0 raised to the negative power {k!r}")
    try:
        return float(x**k)
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {k!r} overflows a float") from None


def _pow_rule(out: Any, x: Any, k: Any) -> tuple[Any, Any]:
    # d(x^k)/dx = k·x^(k−1); the exponent is a constant of this op: d/dk = 0.
    k = float(k)
    if k == 0:
        return 0.0, 0.0
    if float(x) == 0 and k < 1:
        return math.inf, 0.0  # the slope of x^k at 0 for 0 < k < 1 is infinite
    try:
        return k * x ** (k - 1), 0.0
    except OverflowError:  # x^k fits in a float but x^(k−1) does not: the slope is ±inf
        return k * (float(out) / float(x)), 0.0


def _powv(x: float, y: float) -> float:
    if x <= 0:
        raise ValueError(f"pow: a Value exponent needs a positive base, got base {x!r}")
    try:
        return x**y
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {y!r} overflows a float") from None


def _log_any(x: Any) -> Any:
    """log on a float or on a Value (used inside rules)."""
    return math.log(x) if isinstance(x, float) else x.log()


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({x!r}) overflows a float (inputs above ~709.78)") from None


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError(f"log: log of {x!r} is undefined (log needs x > 0)")
    return math.log(x)


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: σ(x) = 1/(1+e^−x) = e^x/(1+e^x).
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _max(x: float, y: float) -> float:
    return x if x >= y else y


def _max_rule(out: Any, x: Any, y: Any) -> tuple[float, float]:
    # d max(x, y) = 1 for the larger side, 0 for the other; a tie splits it ½, ½ (as torch).
    if x > y:
        return 1.0, 0.0
    if x < y:
        return 0.0, 1.0
    return 0.5, 0.5


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        # d(x + y)/dx = 1,  d(x + y)/dy = 1
        Op("add", "+", operator.add, lambda out, x, y: (1.0, 1.0)),
        # d(x − y)/dx = 1,  d(x − y)/dy = −1
        Op("sub", "-", operator.sub, lambda out, x, y: (1.0, -1.0)),
        # d(−x)/dx = −1
        Op("neg", "neg", operator.neg, lambda out, x: (-1.0,)),
        # d(x·y)/dx = y,  d(x·y)/dy = x
        Op("mul", "*", operator.mul, lambda out, x, y: (y, x)),
        # d(x/y)/dx = 1/y,  d(x/y)/dy = −x/y² = −out/y
        Op("div", "/", _div, lambda out, x, y: (1.0 / y, -out / y)),
        # d(x^k)/dx = k·x^(k−1), k a constant number
        Op("pow", "**", _pow, _pow_rule),
        # d(x^y)/dx = y·x^(y−1) = y·out/x,  d(x^y)/dy = x^y·log x = out·log x   (x > 0)
        Op("powv", "**", _powv, lambda out, x, y: (y * out / x, out * _log_any(x))),
        # d e^x/dx = e^x = out
        Op("exp", "exp", _exp, lambda out, x: (out,)),
        # d log x/dx = 1/x
        Op("log", "log", _log, lambda out, x: (1.0 / x,)),
        # d tanh x/dx = 1 − tanh(x)² = 4/(e^x + e^−x)²
        Op("tanh", "tanh", math.tanh, lambda out, x: (1.0 - out * out,)),
        # d σ(x)/dx = σ(x)(1 − σ(x))
        Op("sigmoid", "σ", _sigmoid, lambda out, x: (out * (1.0 - out),)),
        # d relu(x)/dx = 1 if x > 0 else 0 (0 at x = 0 by convention)
        Op("relu", "relu", lambda x: x if x > 0 else 0.0, lambda out, x: (1.0 if x > 0 else 0.0,)),
        # d max(x, y): 1 to the larger side, ½ each at a tie
        Op("max", "max", _max, _max_rule),
    )
}
