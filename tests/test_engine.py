"""What ``Value`` and ``backward`` promise, and the bugs other engines had.

- Gradients accumulate: ``b = a + a`` sends 1 + 1 to ``a`` (micrograd once sent
  1), ``x·x`` at 3 gives 2·3 = 6 (tinygrad's first day gave 3); every reachable
  node gets its own ∂out/∂node; calling ``backward`` twice doubles every
  ``.grad`` exactly, intermediates included (nothing compounds).
- ``backward`` is a loop: a chain of 1,000,000 nodes works under the default
  recursion limit, and freeing it works too.
- micrograd's README example gives the same numbers.
- Conventions at the edges: relu'(0) = 0, a tie of ``max`` sends ½ to each side
  (as ``torch.maximum``), tanh and sigmoid saturate at ±1000 without overflow.
- Graphs are deterministic: ``parents`` is a tuple in argument order.
- ``no_grad`` makes leaves; ``detect_anomaly`` turns NaN and ±inf, forward or
  backward, into a FloatingPointError naming the op.
- Inputs and errors: Value takes real numbers (numpy ones too) and rejects the
  rest with TypeError; every domain error names the op and the value.
- Numbers mix with Values on either side of every operator; comparisons look
  at the data.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import Value, detect_anomaly, grad, no_grad, topological_order

ROOT = Path(__file__).resolve().parents[1]


# --- accumulation: the chain rule adds ---------------------------------------


def test_a_node_used_twice_gets_both_contributions() -> None:
    a = Value(3.0)
    b = a + a  # db/da = 1 + 1 = 2
    c = b + b  # dc/db = 2
    c.backward()
    assert b.grad == pytest.approx(2.0)
    assert a.grad == pytest.approx(4.0)


def test_x_times_x_at_3_gives_6() -> None:
    x = Value(3.0)
    (x * x).backward()  # d(x²)/dx = 2x
    assert x.grad == pytest.approx(6.0)


def _small_graph() -> tuple[dict[str, Value], dict[str, float]]:
    """out = tanh(x² + w)·x + 1, with every node named and ∂out/∂node in closed form."""
    x, w = Value(2.0), Value(-1.5)
    a = x * x
    b = a + w
    c = b.tanh()
    d = c * x
    one = Value(1.0)
    out = d + one
    t = math.tanh(2.5)
    db = 2.0 * (1.0 - t * t)  # ∂out/∂b = x·(1 − tanh²(b))
    expected = {"out": 1.0, "one": 1.0, "d": 1.0, "c": 2.0, "b": db, "a": db, "w": db}
    expected["x"] = t + db * 2.0 * 2.0  # c + ∂out/∂a · 2x
    nodes = {"x": x, "w": w, "a": a, "b": b, "c": c, "d": d, "one": one, "out": out}
    return nodes, expected


def test_every_reachable_node_gets_its_grad() -> None:
    nodes, expected = _small_graph()
    out = nodes["out"]
    out.backward()
    assert {id(v) for v in topological_order(out)} == {id(v) for v in nodes.values()}
    for name, v in nodes.items():
        assert v.grad == pytest.approx(expected[name], rel=1e-12), name


def test_backward_twice_doubles_every_grad_exactly() -> None:
    nodes, _ = _small_graph()
    out = nodes["out"]
    out.backward()
    first = {name: v.grad for name, v in nodes.items()}
    out.backward()
    for name, v in nodes.items():
        # g + g is exact in floating point: anything else means the second pass
        # started from the first one's intermediate gradients.
        assert v.grad == 2.0 * first[name], name


def test_backward_seeds_the_output_gradient() -> None:
    x = Value(1.5)
    y = x * x
    y.backward(3.0)  # 3 · d(x²)/dx
    assert y.grad == pytest.approx(3.0)
    assert x.grad == pytest.approx(9.0)


# --- deep graphs: no recursion -----------------------------------------------

CHAIN = textwrap.dedent(
    """
    import gc, json, sys
    from autograd_lite import Value

    n = 1_000_000
    x, c = Value(1.0), Value(1.0 + 1e-7)
    y = x
    for _ in range(n):
        y = y * c
    y.backward()
    result = {"limit": sys.getrecursionlimit(), "y": y.data, "dx": x.grad, "dc": c.grad}
    del y  # frees a million nested nodes
    gc.collect()
    result["freed"] = True
    print(json.dumps(result))
    """
)


@pytest.mark.slow
def test_a_million_node_chain_backward_and_free() -> None:
    """y = x·cⁿ built as y ← y·c, n = 10⁶: dy/dx = cⁿ, dy/dc = n·x·cⁿ⁻¹.

    Run in a fresh interpreter: the default recursion limit, and a crash while
    freeing the chain would be a failed test rather than a dead test run.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", CHAIN],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 0, f"exit code {proc.returncode}\n{proc.stderr[-3000:]}"
    result = json.loads(proc.stdout)
    n, c = 1_000_000, 1.0 + 1e-7
    assert result["limit"] == 1000
    assert result["y"] == pytest.approx(c**n, rel=1e-8)
    assert result["dx"] == pytest.approx(c**n, rel=1e-8)
    assert result["dc"] == pytest.approx(n * c ** (n - 1), rel=1e-8)
    assert result["freed"] is True


# --- micrograd's README -------------------------------------------------------


def test_micrograd_readme_example() -> None:
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


# --- conventions at kinks, ties and saturation ----------------------------------


@pytest.mark.parametrize(("x", "slope"), [(-2.0, 0.0), (0.0, 0.0), (3.0, 1.0)])
def test_relu_slope_is_0_at_0(x: float, slope: float) -> None:
    v = Value(x)
    y = v.relu()
    y.backward()
    assert y.data == pytest.approx(max(x, 0.0))
    assert v.grad == slope


def test_max_tie_splits_the_gradient_like_torch_maximum() -> None:
    a, b = Value(1.5), Value(1.5)
    m = a.max(b)
    m.backward()
    assert m.data == pytest.approx(1.5)
    assert (a.grad, b.grad) == (pytest.approx(0.5), pytest.approx(0.5))


def test_max_of_a_node_with_itself_has_slope_1() -> None:
    a = Value(-0.25)
    a.max(a).backward()  # ½ + ½
    assert a.grad == pytest.approx(1.0)


@pytest.mark.parametrize(("a", "b", "da", "db"), [(2.0, 1.0, 1.0, 0.0), (-3.0, 0.5, 0.0, 1.0)])
def test_max_sends_the_gradient_to_the_larger_side(
    a: float, b: float, da: float, db: float
) -> None:
    x, y = Value(a), Value(b)
    x.max(y).backward()
    assert (x.grad, y.grad) == (da, db)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_tanh_saturates_at_1000(sign: float) -> None:
    x = Value(sign * 1000.0)
    y = x.tanh()
    y.backward()
    assert y.data == pytest.approx(sign, abs=1e-15)
    assert x.grad == pytest.approx(0.0, abs=1e-300)


@pytest.mark.parametrize(("x", "limit"), [(1000.0, 1.0), (-1000.0, 0.0)])
def test_sigmoid_saturates_at_1000_without_overflow(x: float, limit: float) -> None:
    v = Value(x)
    y = v.sigmoid()
    y.backward()
    assert math.isfinite(y.data) and y.data == pytest.approx(limit, abs=1e-15)
    assert math.isfinite(v.grad) and v.grad == pytest.approx(0.0, abs=1e-300)


# --- deterministic graphs -------------------------------------------------------

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "powv": lambda a, b: a**b,
    "max": lambda a, b: a.max(b),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_parents_are_a_tuple_in_argument_order(name: str) -> None:
    a, b = Value(2.0), Value(0.5)
    for first, second in [(a, b), (b, a)]:
        out = BINARY[name](first, second)
        assert out.op == name
        assert isinstance(out.parents, tuple) and len(out.parents) == 2
        assert out.parents[0] is first and out.parents[1] is second


def test_a_number_becomes_a_leaf_parent_in_its_place() -> None:
    x = Value(2.0)
    out = 5 - x
    assert out.parents[1] is x
    assert out.parents[0].data == 5.0 and out.parents[0].parents == ()
    assert x.exp().parents[0] is x and len(x.exp().parents) == 1


def test_numbers_the_engine_wraps_are_constants_and_user_values_are_not() -> None:
    x = Value(2.0)
    made = [
        (x**2).parents[1],
        (3 * x).parents[0],
        (x * 3).parents[1],
        (x + 1).parents[1],
        (1 - x).parents[0],
        (1 / x).parents[0],
        (2**x).parents[0],
        x.max(0.5).parents[1],
        al.exp(2.0).parents[0],
        al.maximum(1.0, x).parents[0],
    ]
    for c in made:
        assert c.is_constant and c.parents == () and c.op == ""
    assert not Value(3.0).is_constant and not x.is_constant
    assert not (x * 2).is_constant and not al.exp(2.0).is_constant
    with no_grad():
        assert not (x * 2).is_constant  # a result made without recording is still not a number
    with pytest.raises(AttributeError):
        x.is_constant = True  # type: ignore[misc]


def test_a_constant_works_as_an_operand_everywhere() -> None:
    x = Value(2.0)
    c = (x * 2).parents[1]
    for out in (c * 3, 3 * c, c + x, x - c, c / x, c**2, x**c, 2**c, c.max(x), c.exp(), -c):
        assert isinstance(out, Value) and not out.is_constant
    out = x * c + c * c
    out.backward()
    assert x.grad == 2.0 and out.data == 8.0


def _build() -> Value:
    x, y = Value(0.5), Value(-1.0)
    s = x * y + x.tanh()
    return (s * (y - x).exp() + s.max(y)) / (1.0 + x * x)


def test_topological_order_is_deterministic_and_puts_parents_first() -> None:
    orders = [topological_order(_build()) for _ in range(3)]
    pictures = [[(v.op, v.data) for v in order] for order in orders]
    assert pictures[0] == pictures[1] == pictures[2]
    order = orders[0]
    position = {id(v): i for i, v in enumerate(order)}
    assert len(position) == len(order), "a node appears twice"
    assert order[-1].op == "div"  # the root comes last
    for v in order:
        for p in v.parents:
            assert position[id(p)] < position[id(v)]


# --- no_grad and detect_anomaly -------------------------------------------------


def test_no_grad_makes_leaves_and_restores_recording() -> None:
    x = Value(1.5)
    with no_grad():
        y = (x * 2 + x.exp()).tanh()
    assert y.parents == () and y.op == ""
    assert y.data == pytest.approx(math.tanh(3.0 + math.exp(1.5)))
    y.backward()
    assert x.grad == 0.0
    z = x * 2  # recording again
    assert z.parents[0] is x and z.op == "mul"


def test_no_grad_restores_recording_after_an_exception() -> None:
    x = Value(1.0)
    with pytest.raises(ZeroDivisionError), no_grad():
        x / 0
    assert (x * x).parents == (x, x)


def test_detect_anomaly_names_the_op_of_a_nan_or_inf_forward() -> None:
    big, inf = Value(1e308), Value(math.inf)
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"\bmul\b"):
            big * 10.0  # 1e309 = inf
        with pytest.raises(FloatingPointError, match=r"\bsub\b"):
            inf - inf  # nan
        with pytest.raises(FloatingPointError, match=r"\btanh\b"):
            Value(math.nan).tanh()


def test_detect_anomaly_names_the_op_of_a_nan_or_inf_backward() -> None:
    with detect_anomaly():
        x = Value(0.0)
        y = x**0.5  # √0 = 0 is finite, its slope 1/(2√x) is not
        with pytest.raises(FloatingPointError, match=r"\bpow\b"):
            y.backward()
        t = Value(1e-320)
        u = t.log()  # log(1e-320) ≈ −737 is finite, 1/x = inf is not
        with pytest.raises(FloatingPointError, match=r"\blog\b"):
            u.backward()
        with pytest.raises(FloatingPointError, match=r"\blog\b"):
            grad(u, [t])


def test_without_detect_anomaly_nan_and_inf_pass_silently() -> None:
    with pytest.raises(FloatingPointError), detect_anomaly():
        Value(math.inf) - Value(math.inf)
    # the mode is off again, even though the block ended with an exception
    assert (Value(1e308) * 10.0).data == math.inf
    assert math.isnan((Value(math.inf) - Value(math.inf)).data)
    x = Value(0.0)
    (x**0.5).backward()
    assert x.grad == math.inf
    t = Value(1e-320)
    assert grad(t.log(), [t])[0].data == math.inf


# --- what Value accepts, and errors ----------------------------------------------


@pytest.mark.parametrize(
    "number",
    [3, -2.5, np.float32(1.5), np.float64(0.1), np.int64(7), np.array(2.5), np.array(4)],
    ids=["int", "float", "float32", "float64", "int64", "0-d float array", "0-d int array"],
)
def test_value_accepts_real_numbers_and_stores_a_float(number: object) -> None:
    v = Value(number)
    assert type(v.data) is float
    assert v.data == float(number)
    assert v.grad == 0.0 and v.parents == () and v.op == ""


def test_a_numpy_float64_input_behaves_like_a_float() -> None:
    """np.float64 is a float subclass with numpy's overflow rules (a warning and inf).

    Stored as is, it would make every node downstream a numpy scalar, and
    10.0 ** 400 would give inf instead of the OverflowError naming pow.
    """
    x = Value(np.float64(10.0))
    assert type((x * 2.0).data) is float
    with pytest.raises(OverflowError, match="pow"):
        x**400


@pytest.mark.parametrize(
    "bad",
    ["abc", None, [1], 1 + 2j, np.complex128(1 - 1j), np.array([1.0]), np.array("x")],
    ids=["str", "None", "list", "complex", "np.complex128", "1-d array", "0-d str array"],
)
def test_value_rejects_what_is_not_a_real_number(bad: object) -> None:
    with pytest.raises(TypeError) as info:
        Value(bad)
    assert repr(bad) in str(info.value)


@pytest.mark.parametrize("x", [0, 0.0, -1, -1e-300])
def test_log_outside_its_domain_names_log_and_the_value(x: float) -> None:
    for call in (lambda: Value(x).log(), lambda: al.log(x)):
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        assert "log" in message and repr(float(x)) in message


@pytest.mark.parametrize(
    "divide",
    [
        lambda: Value(1.0) / Value(0.0),
        lambda: Value(1.0) / 0,
        lambda: 1 / Value(0.0),
        lambda: Value(0.0) / 0.0,
    ],
    ids=["Value/Value", "Value/number", "number/Value", "0/0"],
)
def test_division_by_zero_raises_zero_division_error(divide) -> None:
    with pytest.raises(ZeroDivisionError):
        divide()


def test_exp_overflow_raises_overflow_error_naming_exp() -> None:
    for call in (lambda: Value(1000.0).exp(), lambda: al.exp(1000)):
        with pytest.raises(OverflowError, match="exp"):
            call()
    assert Value(709.0).exp().data == pytest.approx(math.exp(709.0))


@pytest.mark.parametrize(
    "power",
    [
        lambda: Value(-2.0) ** 0.5,  # a negative base needs an integer exponent
        lambda: Value(-8.0) ** (1 / 3),
        lambda: Value(-2.0) ** Value(2.0),  # x^y = e^(y log x) with a Value y needs x >= 0
        lambda: (-2) ** Value(3.0),
    ],
    ids=["(-2)**0.5", "(-8)**(1/3)", "(-2)**V(2)", "number -2**V"],
)
def test_pow_outside_its_domain_raises_value_error(power) -> None:
    with pytest.raises(ValueError, match="pow"):
        power()


def test_pow_with_a_negative_base_and_an_integer_exponent_is_fine() -> None:
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert y.data == pytest.approx(-8.0)
    assert x.grad == pytest.approx(12.0)  # 3x²


def test_pow_of_a_tiny_base_works_like_division() -> None:
    """x⁻¹ = 1/x = 1e200 for x = 1e-200 is a float, though its slope −x⁻² = −1e400 is not.

    Division gives the value and a slope of −inf (as torch does for both);
    pow must not fail on the same function.
    """
    x1, x2 = Value(1e-200), Value(1e-200)
    y1 = 1 / x1
    y2 = x2**-1
    assert y2.data == pytest.approx(y1.data, rel=1e-15)
    y1.backward()
    y2.backward()
    assert x1.grad == -math.inf
    assert x2.grad == -math.inf


# --- module-level functions, operators with numbers, comparisons -----------------

FUNCTIONS = [
    (al.exp, (1.0,), "exp", math.e),
    (al.log, (2.0,), "log", math.log(2.0)),
    (al.tanh, (0.5,), "tanh", math.tanh(0.5)),
    (al.sigmoid, (0.0,), "sigmoid", 0.5),
    (al.relu, (-3,), "relu", 0.0),
    (al.maximum, (1, 2.5), "max", 2.5),
]


@pytest.mark.parametrize(("fn", "args", "op", "expected"), FUNCTIONS, ids=[f[2] for f in FUNCTIONS])
def test_module_functions_return_values_for_plain_numbers(fn, args, op, expected) -> None:
    out = fn(*args)
    assert isinstance(out, Value)
    assert out.op == op
    assert out.data == pytest.approx(expected, rel=1e-15)


def test_module_functions_are_differentiable() -> None:
    x = Value(0.3)
    y = al.exp(x) + al.log(x) + al.tanh(x) + al.sigmoid(x) + al.relu(x) + al.maximum(1.0, x)
    y.backward()
    s = 1.0 / (1.0 + math.exp(-0.3))
    expected = math.exp(0.3) + 1 / 0.3 + (1 - math.tanh(0.3) ** 2) + s * (1 - s) + 1.0 + 0.0
    assert x.grad == pytest.approx(expected, rel=1e-12)


LN3 = math.log(3.0)
OPERATORS = [  # at x = 2: (expression, value, d/dx)
    ("x + 3", lambda x: x + 3, 5.0, 1.0),
    ("3 + x", lambda x: 3 + x, 5.0, 1.0),
    ("x - 3", lambda x: x - 3, -1.0, 1.0),
    ("3 - x", lambda x: 3 - x, 1.0, -1.0),
    ("x * 3", lambda x: x * 3, 6.0, 3.0),
    ("3 * x", lambda x: 3 * x, 6.0, 3.0),
    ("x / 4", lambda x: x / 4, 0.5, 0.25),
    ("4 / x", lambda x: 4 / x, 2.0, -1.0),  # −4/x²
    ("x ** 3", lambda x: x**3, 8.0, 12.0),  # 3x²
    ("3 ** x", lambda x: 3**x, 9.0, 9.0 * LN3),  # 3^x ln 3
    ("x ** 0.5", lambda x: x**0.5, math.sqrt(2), 0.5 / math.sqrt(2)),
    ("-x", lambda x: -x, -2.0, -1.0),
    ("x * np.float64(3)", lambda x: x * np.float64(3), 6.0, 3.0),
    ("x + np.float32(0.5)", lambda x: x + np.float32(0.5), 2.5, 1.0),
    ("sum([x, x, 1])", lambda x: sum([x, x, 1]), 5.0, 2.0),
]


@pytest.mark.parametrize(("text", "f", "value", "slope"), OPERATORS, ids=[o[0] for o in OPERATORS])
def test_operators_with_numbers_on_either_side(text, f, value, slope) -> None:
    x = Value(2.0)
    y = f(x)
    assert isinstance(y, Value), text
    y.backward()
    assert y.data == pytest.approx(value, rel=1e-15)
    assert x.grad == pytest.approx(slope, rel=1e-15)


def test_unary_plus_is_the_value_itself() -> None:
    x = Value(2.0)
    assert +x is x


def test_comparisons_look_at_the_data() -> None:
    x, y = Value(2.0), Value(3.0)
    assert x < y and x <= y and y > x and y >= x
    assert not (x > y) and not (x >= y)
    assert x <= 2 and x >= 2.0 and x < 2.5 and x > np.float64(1.5)
    assert 1 < x and 3 > x and 2 <= x and 2 >= x  # numbers on the left
    assert max(x, y) is y and sorted([y, x]) == [x, y]


def test_equality_is_identity_so_values_are_graph_nodes() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a == a and a != b
    assert len({a, b, a}) == 2
