"""The engine's answers at the edges (issue 11), each as its reproducer.

- 0 × ∞: a zero local derivative contributes exactly 0, even when the gradient
  arriving from above is infinite or NaN (torch masks these the same way), in
  ``backward``, in ``grad`` and with ``create_graph=True``.
- NaN is never swallowed: relu and max (either order) propagate it forward, and
  ``detect_anomaly`` catches it.
- A rule's special case stays differentiable: the second derivative of x^k at 0
  for 0 < k < 1 is −inf (k(k−1)·0^(k−2)), as the closed form and torch say.
- ``0 ** y`` for a Value y >= 0 is defined (0, or 1 at y = 0) with torch's gradients.
- abs, sin, cos and sqrt: methods, module functions, ``abs(v)``; abs'(0) = 0.
- micrograd's lecture names ``_prev`` (a set of parents) and ``_op`` (the symbol).
- ``no_grad`` and ``detect_anomaly`` belong to one thread and one asyncio task.
"""

from __future__ import annotations

import asyncio
import math
import threading

import pytest

import autograd_lite as al
from autograd_lite import OPS, Value, detect_anomaly, grad, hessian, no_grad

INF, NAN = math.inf, math.nan


# --- 0 × ∞ = 0 --------------------------------------------------------------------


def _relu_sqrt(y: Value) -> Value:
    return y.relu() ** 0.5  # at y = −1: relu'(−1) = 0 meets (d√u/du)(0) = +inf


def _losing_side_of_max(y: Value) -> Value:
    return (Value(0.0).max(y - 5.0)) ** 0.5  # y − 5 loses; the winner's slope is +inf


@pytest.mark.parametrize("f", [_relu_sqrt, _losing_side_of_max], ids=["relu**0.5", "max"])
def test_a_zero_local_derivative_stops_an_infinite_gradient(f) -> None:
    y = Value(-1.0)
    f(y).backward()
    assert y.grad == 0.0
    (dy,) = grad(f(y), [y])
    assert dy.data == 0.0
    (dy,) = grad(f(y), [y], create_graph=True)
    assert dy.data == 0.0


def test_x_to_the_0_has_slope_0_under_an_infinite_gradient() -> None:
    x = Value(3.0)
    out = (x**0 - 1.0) ** 0.5  # (x⁰ − 1) = 0, where √ has slope +inf
    out.backward()
    assert x.grad == 0.0
    for create_graph in (False, True):
        assert grad(out, [x], create_graph=create_graph)[0].data == 0.0


def test_a_zero_gradient_passes_nothing_through_an_infinite_slope() -> None:
    """s − s has gradient 1 − 1 = 0 at s = √x, whose slope at x = 0 is +inf: 0 × ∞ = 0
    in backward and in grad alike (torch: NaN)."""
    x = Value(0.0)
    s = x.sqrt()
    out = s - s
    out.backward()
    assert (s.grad, x.grad) == (0.0, 0.0)
    for create_graph in (False, True):
        assert grad(out, [x], create_graph=create_graph)[0].data == 0.0


def test_mul_by_a_zero_value_keeps_its_second_derivative() -> None:
    """The mask only drops a zero slope times a non-finite gradient: x·y at y = 0
    still has ∂²/∂x∂y = 1 through a finite gradient."""
    x, y = Value(2.0), Value(0.0)
    (dx,) = grad(x * y, [x], create_graph=True)
    assert dx.data == 0.0
    assert grad(dx, [y])[0].data == 1.0


# --- NaN propagates ---------------------------------------------------------------


def test_relu_of_nan_is_nan_and_passes_the_gradient_like_torch() -> None:
    x = Value(NAN)
    out = x.relu()
    assert math.isnan(out.data)
    out.backward()
    assert x.grad == 1.0  # torch: relu'(nan) passes the gradient


@pytest.mark.parametrize("order", ["nan first", "nan second"])
def test_max_with_a_nan_on_either_side_is_nan(order: str) -> None:
    a, b = Value(NAN), Value(1.0)
    first, second = (a, b) if order == "nan first" else (b, a)
    out = first.max(second)
    assert math.isnan(out.data)
    out.backward()
    assert (a.grad, b.grad) == (1.0, 1.0)  # as torch.maximum's backward
    assert math.isnan(al.maximum(first.data, second.data).data)


@pytest.mark.parametrize("f", [Value.relu, lambda v: v.max(1.0), lambda v: Value(1.0).max(v)])
def test_detect_anomaly_catches_a_nan_through_relu_and_max(f) -> None:
    with detect_anomaly(), pytest.raises(FloatingPointError, match="relu|max"):
        f(Value(NAN))


# --- special cases stay differentiable -----------------------------------------------


@pytest.mark.parametrize("k", [0.5, 0.25, 0.75])
def test_second_derivative_of_x_to_k_at_0_is_minus_inf(k: float) -> None:
    assert hessian(lambda v: v[0] ** k, [0.0]) == [[-INF]]
    x = Value(0.0)
    (d1,) = grad(x**k, [x], create_graph=True)
    assert d1.data == INF and d1.parents  # the infinite slope is a node, not a constant
    (d2,) = grad(d1, [x], create_graph=True)
    assert d2.data == -INF


def test_sqrt_at_0_has_slopes_inf_then_minus_inf() -> None:
    assert hessian(lambda v: v[0].sqrt(), [0.0]) == [[-INF]]
    x = Value(0.0)
    x.sqrt().backward()
    assert x.grad == INF


@pytest.mark.parametrize("k", [1.0, 2.0, 3.5])
def test_x_to_k_at_0_for_k_at_least_1_has_finite_slopes(k: float) -> None:
    x = Value(0.0)
    (d1,) = grad(x**k, [x], create_graph=True)
    assert d1.data == (1.0 if k == 1.0 else 0.0)
    (d2,) = grad(d1, [x])
    assert d2.data == {1.0: 0.0, 2.0: 2.0, 3.5: 0.0}[k]


def test_a_pole_is_refused_to_users() -> None:
    with pytest.raises(ZeroDivisionError, match="pow"):
        Value(0.0) ** -0.5


# --- 0 ** y --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y", "out", "dbase", "dy"),
    [(2.0, 0.0, 0.0, 0.0), (1.0, 0.0, 1.0, 0.0), (0.5, 0.0, INF, 0.0), (0.0, 1.0, 0.0, 0.0)],
)
def test_zero_to_a_value_power_has_torchs_gradients(y, out, dbase, dy) -> None:
    base, exponent = Value(0.0), Value(y)
    result = base**exponent
    assert result.data == out
    result.backward()
    assert (base.grad, exponent.grad) == (dbase, dy)
    c = Value(y)
    number = 0.0**c  # HIPS autograd's test_power_arg1_zero
    number.backward()
    assert number.data == out and c.grad == 0.0


def test_zero_to_a_negative_value_power_is_refused() -> None:
    with pytest.raises(ZeroDivisionError, match="pow"):
        0.0 ** Value(-1.0)


# --- abs, sin, cos, sqrt ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "x", "value", "slope"),
    [
        ("abs", -2.0, 2.0, -1.0),
        ("abs", 3.0, 3.0, 1.0),
        ("abs", 0.0, 0.0, 0.0),  # as torch
        ("sin", 0.5, math.sin(0.5), math.cos(0.5)),
        ("cos", 0.5, math.cos(0.5), -math.sin(0.5)),
        ("sqrt", 4.0, 2.0, 0.25),
    ],
)
def test_new_ops_as_method_function_and_op(name: str, x: float, value: float, slope: float) -> None:
    v = Value(x)
    for out in (getattr(v, name)(), getattr(al, name)(v)):
        assert out.op == name and out.parents == (v,)
        assert out.data == value
        assert grad(out, [v])[0].data == slope
    assert getattr(al, name)(x).data == value  # a plain number works too
    assert name in OPS


def test_builtin_abs_applies_the_abs_op() -> None:
    x = Value(-1.5)
    out = abs(x)
    out.backward()
    assert (out.op, out.data, x.grad) == ("abs", 1.5, -1.0)


def test_sqrt_of_a_negative_number_names_sqrt_and_the_value() -> None:
    with pytest.raises(ValueError, match=r"sqrt.*-1\.0"):
        Value(-1.0).sqrt()


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_sin_and_cos_of_infinity_name_the_op(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        getattr(Value(INF), name)()


# --- micrograd's names ---------------------------------------------------------------


def test_prev_and_op_are_micrograds_read_only_names() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c + a
    assert c._prev == {a, b} and d._prev == {c, a} and a._prev == set()
    assert (c._op, d._op, a._op, a.tanh()._op, (a**2)._op) == ("*", "+", "", "tanh", "**")
    with pytest.raises(AttributeError):
        c._prev = set()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        c._op = "+"  # type: ignore[misc]


def test_the_micrograd_lectures_trace_runs_unchanged() -> None:
    """The lecture's ``trace`` (the heart of its ``draw_dot``), written as it is there."""

    def trace(root):
        nodes, edges = set(), set()

        def build(v):
            if v not in nodes:
                nodes.add(v)
                for child in v._prev:
                    edges.add((child, v))
                    build(child)

        build(root)
        return nodes, edges

    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    nodes, edges = trace(o)
    assert len(nodes) == 10 and len(edges) == 9
    labels = sorted(f"{v._op}" for v in nodes if v._op)
    assert labels == ["*", "*", "+", "+", "tanh"]
    assert x1.grad == pytest.approx(-1.5) and w1.grad == pytest.approx(1.0)


# --- modes are per thread and per task -------------------------------------------------


def test_no_grad_in_one_thread_does_not_stop_another_from_recording() -> None:
    inside, go, done = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def evaluator() -> None:
        with no_grad():
            inside.set()
            go.wait(5)
            seen["evaluator"] = (Value(2.0) * 3.0).parents
        done.set()

    t = threading.Thread(target=evaluator)
    t.start()
    inside.wait(5)
    x = Value(3.0)
    (x * x).backward()  # the other thread is inside no_grad right now
    go.set()
    t.join(5)
    assert x.grad == 6.0 and seen["evaluator"] == ()


def test_blocks_exiting_out_of_order_in_two_threads_leave_recording_on() -> None:
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with no_grad():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def second() -> None:
        a_in.wait(5)
        with no_grad():
            b_in.set()
            a_out.wait(5)  # exits after the first thread's block

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert (Value(1.0) * 2.0).parents  # recording is on here and everywhere


def test_many_threads_switching_modes_never_disturb_each_other() -> None:
    errors: list[str] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait(5)
        for step in range(300):
            if (i + step) % 2:
                with no_grad():
                    if (Value(1.0) * 2.0).parents:
                        errors.append(f"thread {i} recorded inside no_grad")
            else:
                x = Value(float(step))
                (x * x).backward()
                if x.grad != 2.0 * step:
                    errors.append(f"thread {i}: dx = {x.grad} at step {step}")
            with detect_anomaly():
                try:
                    Value(math.inf) * 1.0
                    errors.append(f"thread {i}: anomaly not caught")
                except FloatingPointError:
                    pass
            Value(math.inf) * 1.0  # outside its own block: no check

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


def test_asyncio_tasks_each_have_their_own_modes() -> None:
    async def evaluate(log: list[str]) -> None:
        with no_grad():
            for _ in range(20):
                log.append("eval " + ("recorded" if (Value(1.0) * 2.0).parents else "leaf"))
                await asyncio.sleep(0)

    async def train(log: list[str]) -> None:
        for step in range(20):
            x = Value(float(step))
            (x * x).backward()
            log.append("train ok" if x.grad == 2.0 * step else f"train dx={x.grad}")
            await asyncio.sleep(0)

    async def checked(log: list[str]) -> None:
        with detect_anomaly():
            for _ in range(20):
                try:
                    Value(NAN).relu()
                    log.append("anomaly missed")
                except FloatingPointError:
                    log.append("anomaly caught")
                await asyncio.sleep(0)

    async def main() -> list[str]:
        log: list[str] = []
        await asyncio.gather(evaluate(log), train(log), checked(log))
        return log

    log = asyncio.run(main())
    assert sorted(set(log)) == ["anomaly caught", "eval leaf", "train ok"]
    assert (Value(1.0) * 2.0).parents


def test_the_expression_parser_knows_abs_sin_cos_sqrt() -> None:
    from autograd_lite.expr import parse_expression

    root = parse_expression("abs(x) + sin(x) * cos(x) + sqrt(x * x + 1)", {"x": -0.5})
    root.backward()
    x = next(v for v in al.topological_order(root) if v.label == "x")
    # d/dx = sign(x) + cos(2x) + x/√(x² + 1)
    expected = -1.0 + math.cos(-1.0) + -0.5 / math.sqrt(1.25)
    assert x.grad == pytest.approx(expected, rel=1e-12)
    assert {"abs", "sin", "cos", "sqrt"} <= {v.op for v in al.topological_order(root)}
