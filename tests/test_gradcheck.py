"""``gradcheck`` passes on right derivatives and catches wrong ones.

``gradcheck(f, inputs)`` compares the automatic Jacobian with central
differences, |analytical − numerical| ≤ atol + rtol·|numerical|, as
``torch.autograd.gradcheck`` does. This file proves:

- it passes for every op of the table (an op without an entry in ``ON_VALUES``
  below fails) and for a function with several outputs that uses every op;
- it fails on functions whose derivative is wrong, built honestly two ways:
  a deliberately wrong rule injected into the op table for one test (tanh' =
  1 − t instead of 1 − t², the square forgotten), and a graph that hides a
  path from the engine (x · Value(x.data)); the error names the output index,
  the input index, and the numerical and analytical values; with
  ``raise_exception=False`` it returns False instead;
- ``rtol`` is honoured, and ``numerical_jacobian`` matches a closed form.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from typing import Any

import pytest

from autograd_lite import (
    OPS,
    GradcheckError,
    Value,
    gradcheck,
    numerical_jacobian,
    topological_order,
)

Function = Callable[[list[Value]], Any]

# One function per op, and the points to check it at (inside the op's domain,
# away from relu's kink and max's tie).
ON_VALUES: dict[str, tuple[Function, list[list[float]]]] = {
    "add": (lambda x: x[0] + x[1], [[0.3, -1.2]]),
    "sub": (lambda x: x[0] - x[1], [[0.3, -1.2]]),
    "neg": (lambda x: -x[0], [[0.4]]),
    "mul": (lambda x: x[0] * x[1], [[0.3, -1.2]]),
    "div": (lambda x: x[0] / x[1], [[1.5, -0.7], [-2.0, 3.0]]),
    "pow": (lambda x: x[0] ** 2.5 + x[1] ** -3, [[1.3, -0.6]]),
    "powv": (lambda x: x[0] ** x[1], [[1.3, -0.8], [0.4, 2.5]]),
    "exp": (lambda x: x[0].exp(), [[-1.0], [2.0]]),
    "log": (lambda x: x[0].log(), [[0.2], [3.0]]),
    "tanh": (lambda x: x[0].tanh(), [[-0.7], [1.5]]),
    "sigmoid": (lambda x: x[0].sigmoid(), [[-2.0], [0.9]]),
    "relu": (lambda x: x[0].relu(), [[-0.8], [0.8]]),
    "max": (lambda x: x[0].max(x[1]), [[0.2, 0.9], [0.9, 0.2]]),
    "abs": (lambda x: abs(x[0]), [[-0.8], [0.8]]),
    "sin": (lambda x: x[0].sin(), [[-0.7], [2.0]]),
    "cos": (lambda x: x[0].cos(), [[-0.7], [2.0]]),
    "sqrt": (lambda x: x[0].sqrt(), [[0.2], [3.0]]),
}


@pytest.mark.parametrize("name", list(OPS))
def test_gradcheck_passes_on_every_op(name: str) -> None:
    assert name in ON_VALUES, f"op {name!r} has no entry in ON_VALUES of tests/test_gradcheck.py"
    f, points = ON_VALUES[name]
    for point in points:
        used = {v.op for v in topological_order(f([Value(x) for x in point]))}
        assert name in used, f"the ON_VALUES function for {name!r} does not use it"
        assert gradcheck(f, point) is True


def several_outputs(x: list[Value]) -> list[Value]:
    """Four outputs of three inputs (x2 > 0), all ops between them."""
    a, b, c = x
    return [
        a * b - c / (b * b + 1) + (-a) ** 3,
        c**b + (a * c).exp() + c.log() + (a - b).tanh(),
        (b * c).sigmoid() + (a + c).relu() + a.max(b),
        abs(a - b) + (a * c).sin() + (b - c).cos() + (c * c + 1).sqrt(),
    ]


def test_gradcheck_passes_on_a_function_with_several_outputs() -> None:
    used = {v.op for out in several_outputs([Value(1.0)] * 3) for v in topological_order(out)}
    assert set(OPS) <= used
    assert gradcheck(several_outputs, [0.7, -0.4, 1.3]) is True
    assert gradcheck(several_outputs, [-1.1, 0.6, 0.5]) is True


# --- catching wrong derivatives --------------------------------------------------


def inject_rule(mp: pytest.MonkeyPatch, name: str, rule: Callable[..., tuple]) -> None:
    """Replace op ``name`` by a copy with another rule, in OPS and wherever the engine holds it.

    ``mp`` undoes everything at the end of its context (or of the test).
    """
    right = OPS[name]
    wrong = right._replace(rule=rule)
    mp.setitem(OPS, name, wrong)
    for module_name, module in list(sys.modules.items()):
        if module_name == "autograd_lite" or module_name.startswith("autograd_lite."):
            for attribute, obj in list(vars(module).items()):
                if obj is right:
                    mp.setattr(module, attribute, wrong)


def forgot_the_square(out: Any, x: Any) -> tuple[Any]:
    return (1.0 - out,)  # should be 1 − out²


def two_outputs(x: list[Value]) -> list[Value]:
    """f(x) = (x0·x1, x1 + tanh x2): only ∂f1/∂x2 = 1 − tanh²(x2) goes through tanh."""
    return [x[0] * x[1], x[1] + x[2].tanh()]


POINT = [0.5, -1.5, 0.8]
T = math.tanh(0.8)
RIGHT, WRONG = 1 - T * T, 1 - T  # ∂f1/∂x2, and what the broken rule says


def numbers_in(message: str) -> list[float]:
    return [float(s) for s in re.findall(r"[-+]?\d+\.\d*(?:[eE][-+]?\d+)?", message)]


def test_an_injected_wrong_rule_is_caught_and_described(monkeypatch: pytest.MonkeyPatch) -> None:
    inject_rule(monkeypatch, "tanh", forgot_the_square)
    x = Value(0.8)
    x.tanh().backward()
    assert x.grad == pytest.approx(WRONG), "the engine must take its derivative rules from OPS"

    with pytest.raises(GradcheckError) as info:
        gradcheck(two_outputs, POINT)
    message = str(info.value)
    assert re.search(r"output\D{0,3}1\b", message), message
    assert re.search(r"input\D{0,3}2\b", message), message
    assert "numerical" in message and "analytical" in message
    found = numbers_in(message)
    assert any(v == pytest.approx(RIGHT, rel=1e-6) for v in found), message
    assert any(v == pytest.approx(WRONG, rel=1e-6) for v in found), message


def test_raise_exception_false_returns_false(monkeypatch: pytest.MonkeyPatch) -> None:
    inject_rule(monkeypatch, "tanh", forgot_the_square)
    assert gradcheck(two_outputs, POINT, raise_exception=False) is False


def test_the_injected_rule_is_gone_after_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    original = OPS["tanh"]
    with monkeypatch.context() as mp:
        inject_rule(mp, "tanh", forgot_the_square)
        assert gradcheck(two_outputs, POINT, raise_exception=False) is False
    assert OPS["tanh"] is original
    assert gradcheck(two_outputs, POINT) is True


def test_a_path_hidden_from_the_engine_is_caught() -> None:
    """x · Value(x.data) is x² to the numbers but x·c to the engine: analytical x, numerical 2x."""

    def hidden(x: list[Value]) -> Value:
        return x[0] * Value(x[0].data)

    with pytest.raises(GradcheckError) as info:
        gradcheck(hidden, [1.25])
    message = str(info.value)
    assert re.search(r"output\D{0,3}0\b", message) and re.search(r"input\D{0,3}0\b", message)
    found = numbers_in(message)
    assert any(v == pytest.approx(2.5, rel=1e-6) for v in found), message  # numerical 2x
    assert any(v == pytest.approx(1.25, rel=1e-6) for v in found), message  # analytical x
    assert gradcheck(hidden, [1.25], raise_exception=False) is False


def test_rtol_decides_how_wrong_is_wrong() -> None:
    """0.995·x² + 0.005·x·c with c = x hidden: slope 1.995x instead of 2x, 0.25% off."""

    def slightly_off(x: list[Value]) -> Value:
        return 0.995 * x[0] * x[0] + 0.005 * x[0] * Value(x[0].data)

    assert gradcheck(slightly_off, [1.2], raise_exception=False) is False  # rtol = 1e-3
    assert gradcheck(slightly_off, [1.2], rtol=1e-2) is True


def test_numerical_jacobian_matches_the_closed_form() -> None:
    """f = (x0·x1, e^x0): J = [[x1, x0], [e^x0, 0]]."""
    j = numerical_jacobian(lambda x: [x[0] * x[1], x[0].exp()], [0.3, 2.0])
    assert len(j) == 2 and all(len(row) == 2 for row in j)
    assert j[0] == pytest.approx([2.0, 0.3], rel=1e-8)
    assert j[1][0] == pytest.approx(math.exp(0.3), rel=1e-8)
    assert j[1][1] == pytest.approx(0.0, abs=1e-12)
