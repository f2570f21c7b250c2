"""The op table on arrays: each op of ``OPS`` as NumPy calls over a block of columns.

Stage 3's building blocks (``replay``): the same forward, the same local
derivatives and the same domain as the scalar op table, element by element; the
tests hold every op to the table on grids that include kinks, ties, overflow and
the points where the scalar op raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np


class VectorOp(NamedTuple):
    """An op on arrays: ``forward(*xs, out=block)`` (written into ``out``),
    ``rule(out, *xs)`` (the local derivatives, as in the op table), ``bad(out, *xs)``:
    where the scalar forward raises, and ``fast_rule``: the rule where it may differ
    from ``rule`` only at a NaN input (used when the call's loss and gradients come out
    finite, so no NaN took part; see ``replay``)."""

    forward: Callable[..., Any]
    rule: Callable[..., tuple[Any, ...]]
    bad: Callable[..., Any] | None = None
    fast_rule: Callable[..., tuple[Any, ...]] | None = None


_VECTOR_OPS: dict[str, VectorOp] = {}


def vector_ops() -> dict[str, VectorOp]:
    """The op table on NumPy arrays of float64 or float32.

    Call under ``np.errstate(all="ignore")``: domain errors are found by ``bad``
    and re-raised by the scalar op itself, so the messages are the engine's.
    """
    if _VECTOR_OPS:
        return _VECTOR_OPS
    inf = math.inf

    def overflow(out: Any, *xs: Any) -> Any:  # a finite input gave an infinite result
        finite = np.isfinite(xs[0])
        for x in xs[1:]:
            finite = finite & np.isfinite(x)
        return np.isinf(out) & finite

    def power(x: Any, k: Any) -> Any:  # x^k, with 0^k = +inf for k < 0 (the op table's pole)
        return np.where((x == 0) & (k < 0), inf, x**k)

    def pow_rule(out: Any, x: Any, k: Any) -> tuple[Any, Any]:
        p = power(x, k - 1.0)
        d = np.where(np.isinf(p) & np.isfinite(x) & (x != 0), k * out / x, k * p)  # overflow
        return np.where(k == 0, 0.0, d), 0.0

    def pow_bad(out: Any, x: Any, k: Any) -> Any:
        return ((x < 0) & (k != np.floor(k))) | ((x == 0) & (k < 0)) | overflow(out, x, k)

    def powv_rule(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
        # Base 0 (y ≥ 0): d/dx = y·0^(y−1) (0 at y = 0), d/dy = 0, as the op table.
        zero = x == 0
        dx = np.where(zero, np.where(y == 0, 0.0, y * power(x, y - 1.0)), y * out / x)
        return dx, np.where(zero, 0.0, out * np.log(x))

    def sigmoid(x: Any) -> Any:  # the two branches of the op table, through e = exp(−|x|)
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def max_rule(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
        # 1 to the larger side, ½ each at a tie, 1 to both with a NaN
        tie_or_nan = np.where(x == y, 0.5, 1.0)
        return np.where(x > y, 1.0, np.where(x < y, 0.0, tie_or_nan)), np.where(
            x > y, 0.0, np.where(x < y, 1.0, tie_or_nan)
        )

    def relu(x: Any, out: Any = None) -> Any:
        # np.where(x <= 0, 0.0, x) in two passes with no mask array: max(x, 0) keeps
        # a NaN (as the op table), and + 0.0 turns max's −0.0 into the table's 0.0.
        out = np.maximum(x, 0.0, out=out)
        return np.add(out, 0.0, out=out)

    def on(f: Callable[..., Any]) -> Callable[..., Any]:  # f(*xs) written into out
        def forward(*xs: Any, out: Any = None) -> Any:
            if out is None:
                return f(*xs)
            out[...] = f(*xs)
            return out

        return forward

    def sign(x: Any) -> Any:  # 1, −1, and 0 at 0 and for NaN
        return np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0))

    table: dict[str, VectorOp] = {
        "add": VectorOp(np.add, lambda out, x, y: (1.0, 1.0)),
        "sub": VectorOp(np.subtract, lambda out, x, y: (1.0, -1.0)),
        "neg": VectorOp(np.negative, lambda out, x: (-1.0,)),
        "mul": VectorOp(np.multiply, lambda out, x, y: (y, x)),
        "div": VectorOp(np.divide, lambda out, x, y: (1.0 / y, -out / y), lambda o, x, y: y == 0),
        "pow": VectorOp(np.power, pow_rule, pow_bad),
        "powv": VectorOp(
            np.power,
            powv_rule,
            lambda out, x, y: (x < 0) | ((x == 0) & (y < 0)) | overflow(out, x, y),
        ),
        "exp": VectorOp(np.exp, lambda out, x: (out,), overflow),
        "log": VectorOp(np.log, lambda out, x: (1.0 / x,), lambda out, x: x <= 0),
        "tanh": VectorOp(np.tanh, lambda out, x: (1.0 - out * out,)),
        "sigmoid": VectorOp(on(sigmoid), lambda out, x: (out * (1.0 - out),)),
        "relu": VectorOp(
            relu,
            lambda out, x: (np.where(x <= 0, 0.0, 1.0),),
            None,
            lambda out, x: (x > 0,),  # 1[x > 0]: 0 for a NaN, where the table says 1
        ),
        "max": VectorOp(on(lambda x, y: np.where((x < y) | (y != y), y, x)), max_rule),
        "abs": VectorOp(np.abs, lambda out, x: (sign(x),), None, lambda out, x: (np.sign(x),)),
        "sin": VectorOp(np.sin, lambda out, x: (np.cos(x),), lambda out, x: np.isinf(x)),
        "cos": VectorOp(np.cos, lambda out, x: (-np.sin(x),), lambda out, x: np.isinf(x)),
        "sqrt": VectorOp(
            np.sqrt,
            lambda out, x: (0.5 / out,),  # ±inf at ±0, as the op table
            lambda out, x: x < 0,
        ),
    }
    _VECTOR_OPS.update(table)
    return _VECTOR_OPS
