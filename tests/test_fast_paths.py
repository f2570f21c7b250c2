"""The engine's fast paths give the same bits as the op table.

``Value``'s common operators build their node with the op's forward and rule
written out (see ``autograd_lite/value.py``), and ``topological_order`` places
simple parents without pushing them. Both are speed-ups only: this file proves,
looping over ``OPS``, that every way of spelling an op records exactly the
node the table's generic path (``_binary``/``_unary``: ``op.forward`` and
``op.rule``) records, bit for bit, at ordinary points, at 0, −0.0, ties, NaN
and ±inf; and, on random graphs with reuse, that the topological order is the
plain recursive depth-first post-order.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import OPS, Value, grad, topological_order
from autograd_lite.value import _binary, _constant, _unary

# Every way users spell each op: (operands as Values or numbers) -> Value.
SPELLINGS: dict[str, list[Callable[[Any, Any], Value]]] = {
    "add": [lambda x, y: x + y],
    "sub": [lambda x, y: x - y],
    "neg": [lambda x, y: -x],
    "mul": [lambda x, y: x * y],
    "div": [lambda x, y: x / y],
    "pow": [lambda x, y: x**y],
    "powv": [lambda x, y: x**y],
    "exp": [lambda x, y: x.exp()],
    "log": [lambda x, y: x.log()],
    "tanh": [lambda x, y: x.tanh()],
    "sigmoid": [lambda x, y: x.sigmoid()],
    "relu": [lambda x, y: x.relu()],
    "max": [lambda x, y: x.max(y)],
    "abs": [lambda x, y: x.abs(), lambda x, y: abs(x)],
    "sin": [lambda x, y: x.sin()],
    "cos": [lambda x, y: x.cos()],
    "sqrt": [lambda x, y: x.sqrt()],
}
NUMBER_OPERAND = {"pow"}  # the exponent is a number, never a Value
POINTS = [-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, 1e-300, math.nan, math.inf, -math.inf]


def bits(x: Any) -> tuple:
    """A float's exact identity (NaN equal to NaN, 0.0 distinct from −0.0)."""
    return ("nan",) if math.isnan(x) else (x, math.copysign(1.0, x))


def node(v: Value) -> tuple:
    return (v.op, bits(v.data), bits(v._da), bits(v._db) if v._b is not None else None)


def table(name: str, operands: list[Value]) -> Value:
    op = OPS[name]
    return _binary(op, *operands) if len(operands) == 2 else _unary(op, *operands)


def arity(name: str) -> int:
    return len(OPS[name].rule.__code__.co_varnames[: OPS[name].rule.__code__.co_argcount]) - 1


def test_every_op_has_its_spellings() -> None:
    assert set(SPELLINGS) == set(OPS)


@pytest.mark.parametrize("name", list(OPS))
def test_every_spelling_records_the_tables_node(name: str) -> None:
    n = arity(name)
    compared = 0
    for xs in itertools.product(POINTS, repeat=n):
        for spell in SPELLINGS[name]:
            for numbers in itertools.product([False, True], repeat=n):
                if name in NUMBER_OPERAND and not numbers[1]:
                    continue  # pow's exponent is always a number
                if name == "powv" and numbers[1]:
                    continue  # Value ** number is op pow
                if numbers[0] and name not in {"add", "sub", "mul", "div", "powv"}:
                    continue  # only an operator takes a number on the left
                if all(numbers):
                    continue  # two numbers make no Value
                args = [x if num else Value(x) for x, num in zip(xs, numbers)]
                try:
                    fast = spell(*args, *([None] * (2 - n)))
                except (ValueError, ZeroDivisionError, OverflowError) as error:
                    with pytest.raises(type(error)):
                        table(name, [_constant(x) for x in xs])
                    continue
                operands = list(fast.parents)
                assert [p.data for p in operands] == pytest.approx(list(xs), nan_ok=True)
                for p, arg, num in zip(operands, args, numbers):
                    assert p.is_constant if num else p is arg
                assert node(fast) == node(table(name, operands)), (name, xs, numbers)
                compared += 1
    assert compared > 0


def test_the_fast_path_is_only_taken_while_recording_normally() -> None:
    from autograd_lite import detect_anomaly, no_grad

    with no_grad():
        assert (Value(1.0) + 2.0).parents == ()
        assert Value(-1.0).relu().parents == ()
    with detect_anomaly(), pytest.raises(FloatingPointError, match="mul"):
        Value(1e200) * 1e200
    with pytest.raises(ZeroDivisionError, match="div"):
        Value(1.0) / 0.0


# --- the topological order is the plain depth-first post-order ----------------------


def reference_order(root: Value) -> list[Value]:
    """The textbook recursive depth-first post-order, parents in argument order."""
    order: list[Value] = []
    seen: set[int] = set()

    def visit(v: Value) -> None:
        seen.add(id(v))
        for p in v.parents:
            if id(p) not in seen:
                visit(p)
        order.append(v)

    visit(root)
    return order


@st.composite
def graphs(draw: st.DrawFn) -> Value:
    """A random DAG of binary and unary nodes with heavy reuse and shared leaves."""
    values = [Value(float(i)) for i in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(1, 40))):
        a = values[draw(st.integers(0, len(values) - 1))]
        b = values[draw(st.integers(0, len(values) - 1))]
        kind = draw(st.sampled_from(["add", "mul", "neg", "relu", "number"]))
        if kind == "add":
            values.append(a + b)
        elif kind == "mul":
            values.append(a * b)
        elif kind == "neg":
            values.append(-a)
        elif kind == "relu":
            values.append(a.relu())
        else:
            values.append(a * 2.0)
    root = values[-1]
    for v in values[draw(st.integers(0, len(values) - 1)) :]:
        root = root + v
    return root


@settings(max_examples=300, deadline=None)
@given(root=graphs())
def test_topological_order_is_the_recursive_depth_first_post_order(root: Value) -> None:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 10_000))
    try:
        expected = reference_order(root)
    finally:
        sys.setrecursionlimit(old)
    assert [id(v) for v in topological_order(root)] == [id(v) for v in expected]


@settings(max_examples=100, deadline=None)
@given(root=graphs())
def test_backward_and_grad_agree_on_random_graphs(root: Value) -> None:
    leaves = [v for v in topological_order(root) if not v.parents and not v.is_constant]
    expected = [g.data for g in grad(root, leaves)]
    root.backward()
    assert [x.grad for x in leaves] == expected
