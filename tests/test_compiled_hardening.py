"""compile follows every rule of the engine and never replays a row it cannot (issue 19).

1. 0·∞ = 0: a zero gradient passes nothing on, even through an infinite local
   derivative (√w at w = 0 behind a relu that is off), in every vectorised rule and
   in the products of a layer; a differential test against the scalar engine on
   random graphs with infinite slopes, zero gradients, NaN inputs and kinks.
2. Rows it did not trace: comparisons made on Values are recorded as guards and
   checked on every row of every call; the first call compares its tape on several
   rows (the columns' extremes), never on a NaN row; ``fit(compile=True)`` refuses
   invalid targets with the scalar path's messages.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_compiled import BUILDERS, compiled_step, scalar_step

import autograd_lite as ag
import nn
from autograd_lite import Value
from autograd_lite.compiled.trace import _record, _same_graph, _Sample, trace

# ---------------------------------------------------------------------------
# 1. The engine's 0·∞ = 0 rule.


def test_zero_gradient_through_an_infinite_slope_passes_nothing():
    """The issue's reproducer: √w at w = 0 behind a relu that is off gives 0, not NaN."""
    w = Value(0.0)

    def fn(x, y):
        return (x[0] * w.sqrt() - 1.0).relu() + w * x[0]

    X, Y = [[1.0], [2.0]], [0.0, 0.0]
    expected = scalar_step(fn, [w], X, Y)
    assert expected == (0.0, [1.5])  # relu off: only w·x reaches w, mean of 1 and 2
    assert compiled_step(ag.compile(fn, [w]), [w], X, Y) == expected


def test_zero_gradient_through_a_per_sample_infinite_slope():
    """√(w·x) at w = 0: an infinite slope per row; rows whose relu is off pass nothing."""
    w = Value(0.0)

    def fn(x, y):
        return (w * x[0]).sqrt() * (x[0] - 1.0).relu() + (w * x[0]).relu() ** 0.5 * 0.0

    X, Y = [[1.0], [0.5], [2.0]], [0.0, 0.0, 0.0]
    expected = scalar_step(fn, [w], X, Y)
    got = compiled_step(ag.compile(fn, [w]), [w], X, Y)
    assert got == expected and expected[1] == [math.inf]


def test_zero_gradient_into_a_layer_with_an_infinite_input():
    """A layer's product w·x with x = inf, whose sum gets a zero gradient (× 0): the
    weight and the bias get nothing from that row, not inf·0 = NaN."""
    w, b = Value(0.5), Value(-1.0)

    def fn(x, y):
        return (w * x[0] + b) * 0.0 + w * w

    X, Y = [[math.inf], [1.0]], [0.0, 0.0]
    expected = scalar_step(fn, [w, b], X, Y)
    assert math.isnan(expected[0]) and expected[1] == [1.0, 0.0]
    got = compiled_step(ag.compile(fn, [w, b]), [w, b], X, Y)
    assert math.isnan(got[0]) and got[1] == expected[1]


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


# Builders whose graphs meet the engine's special rules: infinite local derivatives at
# 0 (√, x^0.5), zero gradients (relu off, ×0), kinks (relu, abs, max at ties).
SPECIAL = [
    lambda a, b: a.relu().sqrt(),
    lambda a, b: a.relu() ** 0.5,
    lambda a, b: a * 0.0,
    lambda a, b: a.relu() * b.abs().sqrt(),
    lambda a, b: (a - b).relu(),
    lambda a, b: a.max(b).abs(),
    lambda a, b: a.max(b.relu()),
]
VALUES = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, math.nan]


@settings(max_examples=300, deadline=None)
@given(
    program=st.lists(
        st.tuples(
            st.integers(0, len(BUILDERS) + len(SPECIAL) - 1),
            st.integers(0, 10**6),
            st.integers(0, 10**6),
        ),
        min_size=1,
        max_size=20,
    ),
    rows=st.lists(st.tuples(*[st.sampled_from(VALUES)] * 3), min_size=1, max_size=6),
    zero_param=st.booleans(),
)
def test_special_values_follow_the_scalar_engine(program, rows, zero_param):
    """Random graphs on inputs at 0, −0, ties and NaN, a parameter at 0 (√ of it has an
    infinite slope): the compiled loss and gradients are the scalar engine's, NaN for NaN
    and inf for inf, or both raise the same error."""
    params = [Value(0.0 if zero_param else 0.3), Value(-0.7), Value(1.1)]
    builders = BUILDERS + SPECIAL

    def fn(x, y):
        nodes = [*x, *y, *params]
        for op, i, j in program:
            nodes.append(builders[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
        return nodes[-1] + nodes[-2] * nodes[len(nodes) // 2] + params[0].sqrt() * 0.0

    X = np.array([r[:2] for r in rows])
    Y = np.array([r[2] for r in rows])
    try:
        expected = scalar_step(fn, params, X, Y)
    except (ValueError, ArithmeticError) as e:
        with pytest.raises(type(e)):
            compiled_step(ag.compile(fn, params), params, X, Y)
        return
    got = compiled_step(ag.compile(fn, params), params, X, Y)
    assert _same(got[0], expected[0]), (got[0], expected[0])
    for g, e in zip(got[1], expected[1]):
        assert _same(g, e), (got[1], expected[1])


# ---------------------------------------------------------------------------
# 2. Rows the tape was not traced on.


def test_branch_on_data_at_an_extreme_row_is_refused():
    """The issue's reproducer: row 2 (x = 9) takes the other branch; no silent 8.0."""
    w = Value(1.0)
    step = ag.compile(lambda x, y: w * x[0] if x[0].data > 5 else 2 * w * x[0], [w])
    with pytest.raises(ValueError, match=r"rows 0 and 2 differ.*branches on the data"):
        step([[1.0], [2.0], [9.0]], [0.0, 0.0, 0.0])


def test_a_nan_row_does_not_switch_the_check_off():
    """Row 0 has a NaN: the tape is traced on row 1 and checked on row 2, never on row 0."""
    w = Value(1.0)
    step = ag.compile(lambda x, y: w * x[0] if x[0].data > 5 else 2 * w * x[0], [w])
    with pytest.raises(ValueError, match=r"rows 1 and 2 differ"):
        step([[math.nan], [2.0], [9.0]], [0.0, 0.0, 0.0])
    step = ag.compile(lambda x, y: w * x[0] if x[0].data > 5 else 2 * w * x[0], [w])
    assert math.isnan(step([[math.nan], [2.0], [3.0]], [0.0, 0.0, 0.0]))


def test_a_comparison_of_values_is_checked_on_every_row_of_every_call():
    w = Value(1.0)
    step = ag.compile(lambda x, y: w * x[0] if x[0] > 5 else 2 * w * x[0], [w])
    assert step([[1.0], [2.0], [3.0]], [0.0, 0.0, 0.0]) == 4.0  # every row: x ≤ 5
    assert str(step.tape).splitlines()[-1] == "guard %3 > 5.0 is False"
    with pytest.raises(ValueError, match=r"comparison is True for sample row 3.*another branch"):
        step([[1.0], [2.0], [3.0], [7.0]], [0.0] * 4)  # a later call, a new row


def test_a_comparison_of_parameters_is_checked_when_they_change():
    w = Value(1.0)
    step = ag.compile(lambda x, y: w * x[0] if w > 0 else -w * x[0], [w])
    step([[1.0], [2.0]], [0.0, 0.0])
    w.data = -1.0
    with pytest.raises(ValueError, match=r"comparison is False for the parameters as they are"):
        step([[1.0], [2.0]], [0.0, 0.0])


def test_builtin_max_of_values_is_guarded_and_ties_pass():
    """max(a, b) on Values compares them: a tie keeps the traced choice, a flip is refused."""
    w = Value(1.0)
    step = ag.compile(lambda x, y: max(w * x[0], x[1]), [w])
    expected = scalar_step(lambda x, y: max(w * x[0], x[1]), [w], [[2.0, 1.0], [3.0, 3.0]], [0, 0])
    assert compiled_step(step, [w], [[2.0, 1.0], [3.0, 3.0]], [0, 0]) == expected
    with pytest.raises(ValueError, match="sample row 1"):
        step([[2.0, 1.0], [1.0, 5.0]], [0.0, 0.0])


def test_a_compared_value_not_below_the_loss_is_replayed():
    w = Value(2.0)

    def fn(x, y):
        z = w * x[0] - 3.0  # compared, never used in the loss
        return w * x[1] if z < 0 else w

    step = ag.compile(fn, [w])
    assert step([[1.0, 1.0], [0.5, 3.0]], [0.0, 0.0]) == 4.0
    with pytest.raises(ValueError, match="sample row 1"):
        step([[1.0, 1.0], [2.0, 3.0]], [0.0, 0.0])


def _branchy(a, b):
    """A loss_fn whose graph is ``a(w, x)`` on rows with x[0] ≤ 5 and ``b(w, x)`` above."""
    w = Value(1.5)
    return w, lambda x, y: (b if x[0].data > 5 else a)(w, x)


@pytest.mark.parametrize(
    "a, b, node",
    [
        # the same nodes in the same order, only the parents of the last node swapped
        (
            lambda w, x: (w * x[0] + x[1]) * (w - x[0]),
            lambda w, x: (w * x[0] + x[1]) * (x[0] - w),
            5,
        ),
        # two equal products as two nodes, or one node used twice
        (lambda w, x: w * x[0] + w * x[0], lambda w, x: (lambda t: t + t)(w * x[0]), 3),
        (lambda w, x: (lambda t: t + t)(w * x[0]), lambda w, x: w * x[0] + w * x[0], 3),
        (
            lambda w, x: (lambda t: t * (x[1] * t))(w * x[0]),
            lambda w, x: (w * x[0]) * (x[1] * (w * x[0])),
            4,
        ),
        # the number of a constant
        (lambda w, x: w * x[0] + 2.0, lambda w, x: w * x[0] + 3.0, 3),
        # a Value the loss captured in place of a parameter holding the same number
        (lambda w, x: w * x[0], lambda w, x: Value(1.5) * x[0], 0),
        (lambda w, x: Value(1.5) * x[0], lambda w, x: w * x[0], 0),
        # another op
        (lambda w, x: (w * x[0]).tanh(), lambda w, x: (w * x[0]).sigmoid(), 3),
    ],
)
def test_a_check_row_differing_anywhere_is_refused(a, b, node):
    """The first call's check rows are compared with the tape node for node: a parent
    order, a shared node, a constant, a leaf's kind or an op that differs is refused."""
    w, fn = _branchy(a, b)
    step = ag.compile(fn, [w])
    with pytest.raises(ValueError, match=rf"rows 0 and 2 differ at node %{node}\b|node %{node} is"):
        step([[1.0, 2.0], [2.0, 1.0], [9.0, 0.0]], [0.0, 0.0, 0.0])
    assert step([[1.0, 2.0], [2.0, 1.0], [3.0, 0.0]], [0.0, 0.0, 0.0]) == pytest.approx(
        scalar_step(fn, [w], [[1.0, 2.0], [2.0, 1.0], [3.0, 0.0]], [0.0, 0.0, 0.0])[0]
    )


def test_a_comparison_made_on_a_check_row_only_is_refused():
    """A check row that compares a Value the traced row never built records more nodes."""
    w, fn = _branchy(lambda w, x: w * x[0], lambda w, x: w * x[0] if w * x[1] < 3 else w * x[0])
    with pytest.raises(ValueError, match=r"rows 0 and 2 differ at node %2"):
        ag.compile(fn, [w])([[1.0, 2.0], [2.0, 1.0], [9.0, 0.0]], [0.0, 0.0, 0.0])


def test_a_guard_that_flips_on_a_check_row_is_refused_on_the_first_call():
    """The same graph on every row, but a comparison of Values comes out otherwise on
    the extreme row: the first call refuses it."""
    w = Value(1.0)
    large: list[bool] = []

    def fn(x, y):
        loss = w * x[0]
        large.append(loss > 100)  # a comparison of Values that builds no node
        return loss

    with pytest.raises(ValueError, match=r"comparison is True for sample row 2"):
        ag.compile(fn, [w])([[1.0], [2.0], [500.0]], [0.0, 0.0, 0.0])


def test_an_aux_value_outside_a_check_rows_graph_is_refused():
    """has_aux: a check row whose aux value is not a node of its graph raises as the
    traced row would."""
    w = Value(1.5)

    def fn(x, y):
        out = w * x[0]
        return out, [out if x[0].data <= 5 else w * 2.0]

    step = ag.compile(fn, [w], has_aux=True)
    with pytest.raises(ValueError, match="aux values must be Values the loss depends on"):
        step([[1.0], [2.0], [9.0]], [0.0, 0.0, 0.0])
    assert step([[1.0], [2.0], [3.0]], [0.0, 0.0, 0.0])[1].tolist() == [[1.5], [3.0], [4.5]]


def _graph(program, params):
    """A loss_fn built by ``program`` (as test_random_graphs_with_reuse's)."""

    def fn(x, y):
        nodes = [*x, *y, *params]
        for op, i, j in program:
            nodes.append(BUILDERS[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
        return nodes[-1] + nodes[-2] * nodes[len(nodes) // 2]

    return fn


STEP = st.tuples(st.integers(0, len(BUILDERS) - 1), st.integers(0, 10**6), st.integers(0, 10**6))


@settings(max_examples=150, deadline=None)
@given(program=st.lists(STEP, min_size=1, max_size=12), at=st.integers(0, 11), edit=STEP)
def test_the_quick_check_of_a_row_agrees_with_recording_its_tape(program, at, edit):
    """check_row's quick walk says "the same graph" exactly when the recorded tapes are
    equal: for a graph and the same graph with one step changed (often to an equal one)."""
    params = [Value(0.3), Value(-0.7), Value(1.1)]
    other = list(program)
    other[at % len(other)] = edit
    tape, _ = trace(_graph(program, params), params, [0.4, -0.2], [0.5])
    sample = _Sample(_graph(other, params), [0.4, -0.2], [0.5], 1)
    assert _same_graph(tape, sample, params) == (_record(sample, params)[0] == tape)


@pytest.mark.parametrize(
    "loss, label, outputs, message",
    [
        ("softmax_cross_entropy", 3, 3, r"target class 3 is out of range for 3 classes"),
        ("softmax_cross_entropy", -1, 3, r"target class -1 is out of range for 3 classes"),
        ("hinge", 2, 1, r"hinge: label must be −1 or \+1"),
        ("binary_cross_entropy_with_logits", 2, 1, r"target must be in \[0, 1\], got 2"),
    ],
)
def test_fit_compiled_refuses_invalid_targets_as_fit_does(loss, label, outputs, message):
    X, y = nn.data.make_blobs(20, centers=2, seed=1)
    y = [label if j == 13 else int(c) for j, c in enumerate(y)]  # not in the first batch
    for compile in (False, True):
        model = nn.MLP(2, [4, outputs], seed=0)
        with pytest.raises(ValueError, match=message):
            nn.train.fit(
                model, X, y, loss=loss, epochs=1, batch_size=5, progress=False, compile=compile
            )


def test_a_sum_without_a_product_gets_no_nan_from_an_infinite_input_it_does_not_read():
    """Sums of one level share a weight matrix with a 0 where a sum lacks a product:
    x0 + x0 reads no x1, so x1 = inf must not reach it as 0·inf = NaN (the products'
    sum beside it is −inf, which relu turns into 0: the loss is finite)."""
    w = Value(0.5)

    def fn(x, y):
        return (x[0] + x[0]).relu() + (-3.0 * x[1] + w).relu() * y[0]

    X, Y = [[1.0, math.inf], [2.0, 1.0]], [1.0, 1.0]
    expected = scalar_step(fn, [w], X, Y)
    assert expected == (3.0, [0.0])
    step = ag.compile(fn, [w])
    assert compiled_step(step, [w], X, Y) == expected
    assert "matrix product 1×2" in "\n".join(step.plan)  # the two sums are one product
