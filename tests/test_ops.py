"""The op table, one primitive at a time.

For every op declared in ``autograd_lite.OPS`` this file proves, minitorch style:

1. its forward on floats equals the same function computed with ``math``, on a
   grid over the op's domain and on hypothesis-drawn inputs shifted into it;
2. each local derivative its rule returns equals a central finite difference
   of the forward, ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h, on the same
   points; an argument the op treats as a constant (the number exponent of
   ``pow``) gets exactly 0;
3. the rule gives the same numbers when called on Values (that is what
   ``grad(..., create_graph=True)`` does to get higher derivatives);
4. ``Value`` really applies the op: the node it records has the op's name,
   the op's forward value, its arguments as parents in order, and after
   ``backward`` the rule's derivatives in those parents.

Every test is parametrized over ``OPS`` itself, so an op is tested the moment
it is declared; an op with no entry in ``SPECS`` below fails.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd_lite import OPS, Op, Value

Domain = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Spec:
    """How to test one op."""

    reference: Callable[..., float]  # the same function, computed with math
    domain: Domain  # a closed interval per argument
    spell: Callable[..., Value]  # the op applied to Values, as users write it
    constant: tuple[int, ...] = ()  # arguments the op treats as constants: ∂ = 0
    avoid: Callable[..., bool] = lambda *xs: False  # poles, kinks and ties


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def near_pole(_: float, y: float) -> bool:
    return abs(y) < 0.1


WIDE = (-10.0, 10.0)

SPECS: dict[str, Spec] = {
    "add": Spec(lambda x, y: x + y, (WIDE, WIDE), lambda x, y: x + y),
    "sub": Spec(lambda x, y: x - y, (WIDE, WIDE), lambda x, y: x - y),
    "neg": Spec(lambda x: -x, (WIDE,), lambda x: -x),
    "mul": Spec(lambda x, y: x * y, (WIDE, WIDE), lambda x, y: x * y),
    # x / y has a pole at y = 0.
    "div": Spec(lambda x, y: x / y, (WIDE, WIDE), lambda x, y: x / y, avoid=near_pole),
    # x ** k with k a number: any base for an integer k, a positive one otherwise.
    "pow": Spec(
        math.pow,
        ((-4.0, 4.0), (-3.0, 3.0)),
        lambda x, k: x**k.data,
        constant=(1,),
        avoid=lambda x, k: abs(x) < 0.1 or (x < 0 and not k.is_integer()),
    ),
    # x ** y with y a Value: x^y = e^(y log x) needs x > 0.
    "powv": Spec(math.pow, ((0.1, 4.0), (-3.0, 3.0)), lambda x, y: x**y),
    "exp": Spec(math.exp, ((-20.0, 20.0),), lambda x: x.exp()),
    "log": Spec(math.log, ((0.01, 50.0),), lambda x: x.log()),
    "tanh": Spec(math.tanh, (WIDE,), lambda x: x.tanh()),
    "sigmoid": Spec(_sigmoid, ((-30.0, 30.0),), lambda x: x.sigmoid()),
    # relu has a kink at 0 and max one on the diagonal: their conventions there
    # (0, and ½ each) are tested in test_engine.py.
    "relu": Spec(lambda x: max(x, 0.0), (WIDE,), lambda x: x.relu(), avoid=lambda x: abs(x) < 1e-3),
    "max": Spec(max, (WIDE, WIDE), lambda x, y: x.max(y), avoid=lambda x, y: abs(x - y) < 1e-3),
    # abs has a kink at 0 (its slope there, 0, is tested in test_hardening.py).
    "abs": Spec(math.fabs, (WIDE,), lambda x: abs(x), avoid=lambda x: abs(x) < 1e-3),
    "sin": Spec(math.sin, (WIDE,), lambda x: x.sin()),
    "cos": Spec(math.cos, (WIDE,), lambda x: x.cos()),
    # sqrt's slope is infinite at 0.
    "sqrt": Spec(math.sqrt, ((0.01, 50.0),), lambda x: x.sqrt()),
}

GRID_POINTS = 9  # per argument: 9 points for a unary op, 81 for a binary one
REL, ABS = 1e-6, 1e-8  # central differences with h ≈ 1e-6 are good to ~1e-9 here


def spec_of(name: str) -> Spec:
    if name not in SPECS:
        pytest.fail(f"op {name!r} is declared in OPS but has no entry in tests/test_ops.py SPECS")
    return SPECS[name]


def grid(spec: Spec) -> list[tuple[float, ...]]:
    """A regular grid over the domain, without the points the op must avoid."""
    axes = [np.linspace(lo, hi, GRID_POINTS).tolist() for lo, hi in spec.domain]
    return [xs for xs in itertools.product(*axes) if not spec.avoid(*xs)]


def shift_into(domain: Domain, raw: tuple[float, ...]) -> tuple[float, ...]:
    """Map raw draws from [-100, 100] affinely onto each argument's interval."""
    return tuple(lo + (r + 100.0) / 200.0 * (hi - lo) for (lo, hi), r in zip(domain, raw))


def central_difference(f: Callable[..., float], xs: tuple[float, ...], i: int) -> float:
    """(f(x + h·e_i) − f(x − h·e_i)) / 2h with h relative to |x_i|."""
    h = 1e-6 * max(1.0, abs(xs[i]))
    plus, minus = list(xs), list(xs)
    plus[i] += h
    minus[i] -= h
    return (f(*plus) - f(*minus)) / (plus[i] - minus[i])


def check_forward(name: str, op: Op, spec: Spec, xs: tuple[float, ...]) -> None:
    out = op.forward(*xs)
    assert isinstance(out, float), f"{name}{xs}: forward returned {type(out).__name__}"
    assert out == pytest.approx(spec.reference(*xs), rel=1e-12, abs=1e-300), f"{name}{xs}"


def check_rule(name: str, op: Op, spec: Spec, xs: tuple[float, ...]) -> None:
    local = op.rule(op.forward(*xs), *xs)
    assert len(local) == len(xs), f"{name}: the rule must give one derivative per input"
    for i, d in enumerate(local):
        if i in spec.constant:
            assert d == 0.0, f"{name}{xs}: argument {i} is a constant of the op, ∂ must be 0"
        else:
            fd = central_difference(op.forward, xs, i)
            assert d == pytest.approx(fd, rel=REL, abs=ABS), f"∂{name}/∂x{i} at {xs}"


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_has_a_spec(name: str) -> None:
    assert name in SPECS, f"op {name!r} has no entry in SPECS: add its domain and math reference"
    assert OPS[name].name == name


def test_every_spec_is_an_op() -> None:
    stale = set(SPECS) - set(OPS)
    assert not stale, f"SPECS has entries for ops that no longer exist: {stale}"


@pytest.mark.parametrize("name", list(OPS))
def test_forward_matches_math_on_a_grid(name: str) -> None:
    op, spec = OPS[name], spec_of(name)
    points = grid(spec)
    assert len(points) >= 8
    for xs in points:
        check_forward(name, op, spec, xs)


@pytest.mark.parametrize("name", list(OPS))
def test_local_derivatives_match_central_differences_on_a_grid(name: str) -> None:
    op, spec = OPS[name], spec_of(name)
    for xs in grid(spec):
        check_rule(name, op, spec, xs)


small_floats = st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("name", list(OPS))
@settings(max_examples=60, deadline=None)
@given(raw=st.tuples(small_floats, small_floats))
def test_forward_and_derivatives_on_drawn_inputs(name: str, raw: tuple[float, float]) -> None:
    op, spec = OPS[name], spec_of(name)
    xs = shift_into(spec.domain, raw[: len(spec.domain)])
    assume(not spec.avoid(*xs))
    check_forward(name, op, spec, xs)
    check_rule(name, op, spec, xs)


@pytest.mark.parametrize("name", list(OPS))
def test_rule_gives_the_same_numbers_on_values(name: str) -> None:
    op, spec = OPS[name], spec_of(name)
    for xs in grid(spec):
        out = op.forward(*xs)
        on_floats = op.rule(out, *xs)
        on_values = op.rule(Value(out), *(Value(x) for x in xs))
        assert len(on_values) == len(on_floats)
        for d_float, d_value in zip(on_floats, on_values):
            assert float(d_value) == pytest.approx(d_float, rel=1e-12, abs=1e-300), f"{name}{xs}"


@pytest.mark.parametrize("name", list(OPS))
def test_value_records_the_op(name: str) -> None:
    op, spec = OPS[name], spec_of(name)
    for xs in grid(spec):
        args = [Value(x) for x in xs]
        out = spec.spell(*args)
        assert isinstance(out, Value)
        assert out.op == name
        assert out.data == pytest.approx(op.forward(*xs), rel=1e-15, abs=0.0)
        assert isinstance(out.parents, tuple) and len(out.parents) == len(xs)
        for i, (parent, arg) in enumerate(zip(out.parents, args)):
            if i in spec.constant:  # a number argument becomes a fresh leaf
                assert parent.data == arg.data and parent.parents == ()
            else:
                assert parent is arg, f"{name}: parent {i} is not argument {i}"
        out.backward()
        local = op.rule(op.forward(*xs), *xs)
        for parent, d in zip(out.parents, local):
            assert parent.grad == pytest.approx(d, rel=1e-15, abs=0.0), f"{name}{xs}"
