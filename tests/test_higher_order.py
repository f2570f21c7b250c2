"""Higher-order derivatives: ``grad(..., create_graph=True)``, ``hessian`` and ``jacobian``.

With ``create_graph=True`` the op table's rules are applied to Values, so a
derivative is itself a graph and can be differentiated again. This file checks
the results against closed forms:

- d/dx, d²/dx², d³/dx³ of x⁴ are 4x³, 12x², 24x (then 24, then 0);
- tanh' = 1 − t², tanh'' = −2t(1 − t²), tanh''' = (1 − t²)(6t² − 2) with t = tanh x;
- σ' = σ(1 − σ), σ'' = σ(1 − σ)(1 − 2σ), σ''' = σ(1 − σ)(1 − 6σ + 6σ²);
- exp, log and 1/x to third order, mixed partials of x·y, x/y and x^y;

and the contract of ``grad``: it leaves ``.grad`` alone, gives ``Value(0)`` for
an input the output does not depend on, and plain leaves without
``create_graph``. ``hessian`` is checked on the JAX documentation's example
and, for a function using every op, against central differences of the
gradient; ``jacobian`` has one row per output and one column per input.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from autograd_lite import OPS, Value, grad, hessian, jacobian, topological_order


def derivatives(f: Callable[[Value], Value], x0: float, order: int) -> list[float]:
    """[f(x0), f'(x0), ..., f⁽ⁿ⁾(x0)] by differentiating the derivative again and again."""
    x = Value(x0)
    y = f(x)
    values = [y.data]
    for _ in range(order):
        (y,) = grad(y, [x], create_graph=True)
        values.append(y.data)
    return values


def assert_close(got: list[float], expected: list[float], rel: float = 1e-12) -> None:
    assert len(got) == len(expected)
    for k, (g, e) in enumerate(zip(got, expected)):
        assert g == pytest.approx(e, rel=rel, abs=1e-12), f"derivative of order {k}"


# --- one variable, closed forms ---------------------------------------------------


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.7, 2.0])
def test_x_to_the_4th_up_to_5th_order(x: float) -> None:
    expected = [x**4, 4 * x**3, 12 * x**2, 24 * x, 24.0, 0.0]
    assert_close(derivatives(lambda v: v**4, x, 5), expected)


@pytest.mark.parametrize("x", [-2.0, -0.3, 0.0, 0.8, 1.7])
def test_tanh_to_third_order(x: float) -> None:
    t = math.tanh(x)
    s = 1 - t * t  # tanh' = sech²
    expected = [t, s, -2 * t * s, s * (6 * t * t - 2)]
    assert_close(derivatives(lambda v: v.tanh(), x, 3), expected)


@pytest.mark.parametrize("x", [-3.0, -0.5, 0.0, 1.2, 4.0])
def test_sigmoid_to_third_order(x: float) -> None:
    s = 1 / (1 + math.exp(-x))
    d = s * (1 - s)
    expected = [s, d, d * (1 - 2 * s), d * (1 - 6 * s + 6 * s * s)]
    assert_close(derivatives(lambda v: v.sigmoid(), x, 3), expected)


@pytest.mark.parametrize("x", [-1.0, 0.5, 2.5])
def test_exp_is_its_own_derivative_at_every_order(x: float) -> None:
    assert_close(derivatives(lambda v: v.exp(), x, 4), [math.exp(x)] * 5)


@pytest.mark.parametrize("x", [0.3, 1.0, 4.0])
def test_log_and_reciprocal_to_third_order(x: float) -> None:
    assert_close(derivatives(lambda v: v.log(), x, 3), [math.log(x), 1 / x, -1 / x**2, 2 / x**3])
    expected = [1 / x, -1 / x**2, 2 / x**3, -6 / x**4]
    assert_close(derivatives(lambda v: 1 / v, x, 3), expected)  # div
    assert_close(derivatives(lambda v: v**-1, x, 3), expected)  # pow


@pytest.mark.parametrize("x", [0.4, 2.0])
def test_a_number_to_a_value_power(x: float) -> None:
    # d/dx 3^x = 3^x ln 3, at every order one more factor ln 3
    ln3 = math.log(3.0)
    assert_close(derivatives(lambda v: 3**v, x, 3), [3**x * ln3**k for k in range(4)])


@pytest.mark.parametrize("x", [-1.5, 0.5])
def test_relu_and_max_have_zero_second_derivative(x: float) -> None:
    slope = 1.0 if x > 0 else 0.0
    assert_close(derivatives(lambda v: v.relu(), x, 2), [max(x, 0.0), slope, 0.0])
    assert_close(derivatives(lambda v: v.max(0.0), x, 2), [max(x, 0.0), slope, 0.0])


# --- several variables: mixed partials ------------------------------------------


def partial(y: Value, *wrt: Value) -> Value:
    """∂ⁿy / ∂wrt[0] ... ∂wrt[n−1], keeping every intermediate differentiable."""
    for x in wrt:
        (y,) = grad(y, [x], create_graph=True)
    return y


def test_mixed_partials_of_products_quotients_and_powers() -> None:
    x, y = Value(1.7), Value(-0.6)
    assert partial(x * y, x, y).data == pytest.approx(1.0)
    assert partial(x * x * y, x, x, y).data == pytest.approx(2.0)  # ∂³(x²y)/∂x²∂y
    assert partial(x / y, y, y).data == pytest.approx(2 * 1.7 / (-0.6) ** 3)  # 2x/y³
    assert partial(x / y, x, y).data == pytest.approx(-1 / 0.36)  # −1/y²
    b, e = 1.7, -0.6
    p = b**e
    assert partial(x**y, y, y).data == pytest.approx(p * math.log(b) ** 2)  # x^y (ln x)²
    assert partial(x**y, x, x).data == pytest.approx(e * (e - 1) * b ** (e - 2))
    mixed = b ** (e - 1) * (1 + e * math.log(b))  # x^(y−1)(1 + y ln x)
    assert partial(x**y, x, y).data == pytest.approx(mixed)
    assert partial(x**y, y, x).data == pytest.approx(mixed)


# --- the contract of grad ---------------------------------------------------------


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_leaves_dot_grad_alone(create_graph: bool) -> None:
    x, w = Value(0.5), Value(-2.0)
    h = (x * w).tanh()
    y = h * h + x.exp()
    nodes = topological_order(y)
    for i, v in enumerate(nodes):
        v.grad = 100.0 + i  # sentinels
    dx, dw = grad(y, [x, w], create_graph=create_graph)
    assert [v.grad for v in nodes] == [100.0 + i for i in range(len(nodes))]
    t = math.tanh(-1.0)
    assert dx.data == pytest.approx(2 * t * (1 - t * t) * -2.0 + math.exp(0.5))
    assert dw.data == pytest.approx(2 * t * (1 - t * t) * 0.5)


@pytest.mark.parametrize("create_graph", [False, True])
def test_an_unrelated_input_gets_a_zero_value(create_graph: bool) -> None:
    x, unrelated = Value(2.0), Value(5.0)
    dx, du = grad(x * x, [x, unrelated], create_graph=create_graph)
    assert isinstance(du, Value) and du.data == 0.0
    assert dx.data == pytest.approx(4.0)


def test_without_create_graph_derivatives_are_plain_leaves() -> None:
    x = Value(1.5)
    (dx,) = grad(x**3, [x])
    assert dx.parents == () and dx.op == ""
    assert dx.data == pytest.approx(3 * 1.5**2)
    (ddx,) = grad(dx, [x])
    assert ddx.data == 0.0  # a constant, as in torch without create_graph


def test_grad_takes_a_single_value_as_input() -> None:
    x = Value(3.0)
    result = grad(x * x, x)
    assert len(result) == 1 and result[0].data == pytest.approx(6.0)


def test_backward_through_a_derivative_gives_the_second_derivative() -> None:
    x = Value(0.9)
    (dx,) = grad(x**4, [x], create_graph=True)
    dx.backward()  # d/dx (4x³) = 12x²
    assert x.grad == pytest.approx(12 * 0.9**2)


# --- hessian and jacobian -----------------------------------------------------------


def test_hessian_of_the_jax_docs_example() -> None:
    """f = x0³ − 2·x0·x1 − x1⁶ at (1, 2): H = [[6x0, −2], [−2, −30x1⁴]] = [[6, −2], [−2, −480]]."""
    h = hessian(lambda x: x[0] ** 3 - 2 * x[0] * x[1] - x[1] ** 6, [1.0, 2.0])
    assert len(h) == 2 and all(len(row) == 2 for row in h)
    assert h[0] == pytest.approx([6.0, -2.0])
    assert h[1] == pytest.approx([-2.0, -480.0])


def every_op(x: list[Value]) -> Value:
    """A scalar function of three inputs (x2 > 0) that uses every op of the table."""
    a, b, c = x
    return (
        a * b
        + a / c
        - b
        + (-c)
        + a**3
        + c**b
        + (a * b).exp()
        + c.log()
        + (a - c).tanh()
        + (b * c).sigmoid()
        + (a * c).relu()
        + (a * a).max(b)
        + abs(a - c)
        + (a * b).sin()
        + (b + c).cos()
        + c.sqrt()
    )


POINT = [0.7, -0.4, 1.3]


def test_every_op_function_uses_every_op() -> None:
    used = {v.op for v in topological_order(every_op([Value(v) for v in POINT]))}
    assert set(OPS) <= used, f"every_op misses {set(OPS) - used}"


def test_hessian_of_a_function_using_every_op_matches_differences_of_the_gradient() -> None:
    h = hessian(every_op, POINT)
    step = 1e-5

    def gradient(at: list[float]) -> list[float]:
        return jacobian(every_op, at)[0]

    for j in range(3):
        plus, minus = list(POINT), list(POINT)
        plus[j] += step
        minus[j] -= step
        column = [(p - m) / (2 * step) for p, m in zip(gradient(plus), gradient(minus))]
        for i in range(3):
            assert h[i][j] == pytest.approx(column[i], rel=1e-6, abs=1e-7), (i, j)
            assert h[i][j] == pytest.approx(h[j][i], rel=1e-12), "a Hessian is symmetric"


def test_hessian_needs_a_scalar_function() -> None:
    with pytest.raises(ValueError, match="hessian"):
        hessian(lambda x: [x[0], x[1]], [1.0, 2.0])


def test_jacobian_has_a_row_per_output_and_a_column_per_input() -> None:
    """f(x) = (x0·x1 + x2, e^x0, 7): J = [[x1, x0, 1], [e^x0, 0, 0], [0, 0, 0]]."""
    x0, x1, x2 = 0.5, -1.0, 2.0
    j = jacobian(lambda x: [x[0] * x[1] + x[2], x[0].exp(), 7.0], [x0, x1, x2])
    assert len(j) == 3 and all(len(row) == 3 for row in j)
    assert j[0] == pytest.approx([x1, x0, 1.0])
    assert j[1] == pytest.approx([math.exp(x0), 0.0, 0.0])
    assert j[2] == [0.0, 0.0, 0.0]
    wide = jacobian(lambda x: x[0] * x[1] * x[2] * x[3], [1.0, 2.0, 3.0, 4.0])
    assert wide == [pytest.approx([24.0, 12.0, 8.0, 6.0])]  # one output: one row


@pytest.mark.parametrize(
    ("build", "at", "first", "second"),
    [
        (lambda x: x.sqrt(), 0.0, math.inf, -math.inf),
        (lambda x: x.sqrt(), -0.0, -math.inf, math.inf),  # √(−0.0) = −0.0: slope −inf (torch)
        (lambda x: -x.sqrt(), -0.0, math.inf, -math.inf),
        (lambda x: x.sqrt() + x.sqrt(), -0.0, -math.inf, math.inf),
        (lambda x: x**0.5, 0.0, math.inf, -math.inf),
        (lambda x: (2 * x).sqrt(), 0.0, math.inf, -math.inf),
    ],
)
def test_create_graph_agrees_with_grad_and_backward_at_a_pole(build, at, first, second) -> None:
    """Issue 19: grad(create_graph=True) at sqrt(−0.0) was +inf where grad and backward
    say −inf; a second derivative that is ±inf stays ±inf (not NaN), as torch."""
    x = Value(at)
    (g_graph,) = grad(build(x), x, create_graph=True)
    (g_plain,) = grad(build(x), x)
    y = Value(at)
    build(y).backward()
    assert g_graph.data == g_plain.data == y.grad == first
    (h,) = grad(g_graph, x)
    assert h.data == second
