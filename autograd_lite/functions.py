"""Module-level math functions that accept Values or plain numbers.

``exp(2.0)`` and ``Value(2.0).exp()`` are the same node: a number is first
wrapped in a constant leaf (``is_constant`` True), so the result is always a Value.
"""

from __future__ import annotations

from typing import Any

from .value import Value, _constant


def _value(x: Any) -> Value:
    return x if isinstance(x, Value) else _constant(x)


def exp(x: Any) -> Value:
    """e^x; d/dx e^x = e^x."""
    return _value(x).exp()


def log(x: Any) -> Value:
    """Natural logarithm, x > 0; d/dx log x = 1/x."""
    return _value(x).log()


def tanh(x: Any) -> Value:
    """tanh x; d/dx tanh x = 1 − tanh(x)²."""
    return _value(x).tanh()


def sigmoid(x: Any) -> Value:
    """σ(x) = 1/(1 + e^−x); d/dx σ(x) = σ(x)(1 − σ(x))."""
    return _value(x).sigmoid()


def relu(x: Any) -> Value:
    """max(0, x); d/dx relu(x) = 1 if x > 0, else 0."""
    return _value(x).relu()


def abs(x: Any) -> Value:
    """|x|; d/dx |x| = sign(x), 0 at x = 0."""
    return _value(x).abs()


def sin(x: Any) -> Value:
    """sin x; d/dx sin x = cos x."""
    return _value(x).sin()


def cos(x: Any) -> Value:
    """cos x; d/dx cos x = −sin x."""
    return _value(x).cos()


def sqrt(x: Any) -> Value:
    """√x, x >= 0; d/dx √x = 1/(2√x)."""
    return _value(x).sqrt()


def maximum(a: Any, b: Any) -> Value:
    """max(a, b); the gradient flows to the larger side, half to each at a tie."""
    return _value(a).max(b)
