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


def _power(x: Any, k: float) -> Any:
    """x^k for a float or a Value, including 0^k = +inf for k < 0 (the pole).

    Used inside rules, where an infinite slope is the right answer: on a Value
    the pole stays a node of the graph (``Value._pole``), so the next
    derivative is its own (signed) infinity instead of a constant.
    """
    if float(x) == 0 and k < 0:
        return math.inf if isinstance(x, float) else x._pole(k)
    return x**k


def _pow_rule(out: Any, x: Any, k: Any) -> tuple[Any, Any]:
    # d(x^k)/dx = k·x^(k−1); the exponent is a constant of this op: d/dk = 0.
    k = float(k)
    if k == 0:
        return 0.0, 0.0
    if float(x) == 0:  # k·0^(k−1): 0 for k > 1, k for k = 1, ±inf for k < 1
        return k * _power(x, k - 1), 0.0
    try:
        return k * x ** (k - 1), 0.0
    except OverflowError:  # x^k fits in a float but x^(k−1) does not: k·x^k/x is ±inf
        return k * out / x, 0.0


def _powv(x: float, y: float) -> float:
    if x < 0:
        raise ValueError(f"pow: a Value exponent needs a positive base (or 0), got base {x!r}")
    if x == 0 and y < 0:
        raise ZeroDivisionError(f"pow: 0 raised to the negative power {y!r}")
    try:
        return x**y
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {y!r} overflows a float") from None


def _powv_rule(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # d(x^y)/dx = y·x^(y−1) = y·out/x,  d(x^y)/dy = x^y·log x = out·log x   (x > 0).
    if float(x) != 0:
        return y * out / x, out * _log_any(x)
    # Base 0 (y >= 0, the forward refused y < 0), as torch: d/dx = y·0^(y−1), which is
    # 0 at y = 0, and d/dy = 0 (x^y·log x → 0 as x → 0+ for y > 0; torch masks it).
    if float(y) == 0:
        return 0.0, 0.0
    return y * _power(x, y - 1), 0.0


def _log_any(x: Any) -> Any:
    """log on a float or on a Value (used inside rules)."""
    return math.log(x) if isinstance(x, float) else x.log()


def _sin_any(x: Any) -> Any:
    return math.sin(x) if isinstance(x, float) else x.sin()


def _cos_any(x: Any) -> Any:
    return math.cos(x) if isinstance(x, float) else x.cos()


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError(f"sqrt: sqrt of {x!r} is undefined (sqrt needs x >= 0)")
    return math.sqrt(x)


def _sqrt_rule(out: Any, x: Any) -> tuple[Any]:
    # d √x/dx = 1/(2√x) = 1/(2·out); at 0 the slope is infinite: 1/(2·±0) = ±inf on
    # floats (as torch), ±x^(−1/2)/2 as a node on Values (so it has a derivative), with
    # the sign of out: √(−0.0) = −0.0 has the slope −inf in both.
    if float(out) != 0:
        return (0.5 / out,)
    if isinstance(out, float):
        return (math.copysign(math.inf, out),)
    pole = 0.5 * _power(x, -0.5)
    return (-pole if math.copysign(1.0, out.data) < 0 else pole,)


def _sin(x: float) -> float:
    try:
        return math.sin(x)
    except ValueError:
        raise ValueError(f"sin: sin of {x!r} is undefined") from None


def _cos(x: float) -> float:
    try:
        return math.cos(x)
    except ValueError:
        raise ValueError(f"cos: cos of {x!r} is undefined") from None


def _abs_rule(out: Any, x: Any) -> tuple[float]:
    # d|x|/dx = sign(x): 1 above 0, −1 below, 0 at 0 (as torch; also for NaN)
    return (1.0 if x > 0 else -1.0 if x < 0 else 0.0,)


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
    # A NaN on either side wins (as torch.maximum): y if it is larger or NaN, else x.
    return y if x < y or y != y else x


def _max_rule(out: Any, x: Any, y: Any) -> tuple[float, float]:
    # d max(x, y) = 1 for the larger side, 0 for the other; a tie splits it ½, ½;
    # with a NaN both sides get 1 (as torch). Compared as floats: Values compare their
    # data with < and >, but == on Values is identity.
    x, y = float(x), float(y)
    if x > y:
        return 1.0, 0.0
    if x < y:
        return 0.0, 1.0
    if x == y:
        return 0.5, 0.5
    return 1.0, 1.0


def _relu(x: float) -> float:
    return 0.0 if x <= 0 else x  # NaN stays NaN


def _relu_rule(out: Any, x: Any) -> tuple[float]:
    # d relu(x)/dx = 1 if x > 0 else 0 (0 at x = 0; NaN passes the gradient, as torch)
    return (0.0 if x <= 0 else 1.0,)


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
        Op("powv", "**", _powv, _powv_rule),
        # d e^x/dx = e^x = out
        Op("exp", "exp", _exp, lambda out, x: (out,)),
        # d log x/dx = 1/x
        Op("log", "log", _log, lambda out, x: (1.0 / x,)),
        # d tanh x/dx = 1 − tanh(x)² = 4/(e^x + e^−x)²
        Op("tanh", "tanh", math.tanh, lambda out, x: (1.0 - out * out,)),
        # d σ(x)/dx = σ(x)(1 − σ(x))
        Op("sigmoid", "σ", _sigmoid, lambda out, x: (out * (1.0 - out),)),
        # d relu(x)/dx = 1 if x > 0 else 0 (0 at x = 0 by convention)
        Op("relu", "relu", _relu, _relu_rule),
        # d max(x, y): 1 to the larger side, ½ each at a tie
        Op("max", "max", _max, _max_rule),
        # d|x|/dx = sign(x), 0 at 0
        Op("abs", "abs", math.fabs, _abs_rule),
        # d sin x/dx = cos x
        Op("sin", "sin", _sin, lambda out, x: (_cos_any(x),)),
        # d cos x/dx = −sin x
        Op("cos", "cos", _cos, lambda out, x: (-_sin_any(x),)),
        # d √x/dx = 1/(2√x)
        Op("sqrt", "sqrt", _sqrt, _sqrt_rule),
    )
}
