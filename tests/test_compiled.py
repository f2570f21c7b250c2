"""autograd_lite.compile: the replayed tape against the scalar engine, its reference.

1. Every op of ``OPS`` has a vectorised twin (``vector_ops``) with the same forward,
   the same local derivatives and the same domain, on grids that include the kinks,
   ties, overflow and the points where the scalar op raises.
2. Random MLPs with every activation and every loss of ``nn``, batch sizes from 1 to
   257: the compiled mean loss and gradients equal the scalar engine's to 1e-12.
3. micrograd's demo step (its L2 term inside loss_fn): loss and gradients to 1e-12
   relative, and a 30-step SGD trajectory within 1e-10.
4. What compile refuses: a loss_fn that branches on the data, one that bakes a
   sample's number into a constant, and a sample out of an op's domain.
5. ``fit(compile=True)`` gives the history and weights of ``fit()``.
6. Random graphs with reuse (hypothesis), every op, a sample at the kinks.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autograd_lite as ag
import nn
from autograd_lite import OPS, Value
from autograd_lite.compiled import vector_ops

# ---------------------------------------------------------------------------
# 1. The vectorised op table against the scalar one.

POINTS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    2.0,
    -3.0,
    1e-300,
    5e-324,
    -2.5,
    0.3,
    3.7,
    30.0,
    -30.0,
    709.0,
    710.0,
    -745.5,
    1e154,
    1e308,
    math.inf,
    -math.inf,
    math.nan,
]


def _scalar(fn, *xs):
    try:
        return fn(*xs), None
    except (ValueError, ZeroDivisionError, OverflowError) as e:
        return None, type(e)


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-14 * max(abs(a), abs(b)) or abs(a - b) <= 1e-300


@pytest.mark.parametrize("name", sorted(OPS))
def test_vectorised_op_matches_the_op_table(name):
    """Forward, domain (where the scalar op raises) and local derivatives, point by point."""
    ops = vector_ops()
    assert name in ops, f"op {name!r} has no vectorised twin in autograd_lite.compiled"
    op, vop = OPS[name], ops[name]
    arity = op.forward.__code__.co_argcount if hasattr(op.forward, "__code__") else None
    if arity is None:
        arity = 2 if name in ("add", "sub", "mul") else 1
    rng = random.Random(0)
    points = POINTS + [rng.uniform(-5, 5) for _ in range(8)]
    cases = list(itertools.product(points, repeat=arity))
    if name == "pow":  # the exponent is a number: integers, halves, negatives
        cases = list(itertools.product(points, [0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -2.0, 1.5, -0.5]))
    columns = [np.array([c[i] for c in cases]) for i in range(arity)]
    with np.errstate(all="ignore"):
        out = np.asarray(vop.forward(*columns), dtype=np.float64)
        bad = (
            np.zeros(len(cases), bool)
            if vop.bad is None
            else np.broadcast_to(vop.bad(out, *columns), out.shape)
        )
        local = [
            np.broadcast_to(np.asarray(d, dtype=np.float64), out.shape)
            for d in vop.rule(out, *columns)
        ]
    checked = 0
    for k, xs in enumerate(cases):
        value, error = _scalar(op.forward, *xs)
        assert bool(bad[k]) == (error is not None), f"{name}{xs}: scalar raises {error}"
        if error is not None:
            continue
        assert _same(out[k], value), f"{name}{xs}: {out[k]!r} vs {value!r}"
        rule, rule_error = _scalar(op.rule, float(out[k]), *xs)  # the rule on the same output
        if rule_error is not None:
            continue
        for i, d in enumerate(rule):
            assert _same(local[i][k], float(d)), f"{name}{xs} ∂/∂x{i}: {local[i][k]} vs {d}"
        checked += 1
    assert checked >= len(cases) // 3


# ---------------------------------------------------------------------------
# The scalar reference: backward on the graph of the mean.


def scalar_step(loss_fn, params, X, Y):
    """The mean loss over the rows, and its gradient, with the scalar engine."""
    for p in params:
        p.grad = 0.0
    X, Y = np.asarray(X, float), np.asarray(Y, float)
    Y = Y[:, None] if Y.ndim == 1 else Y
    total = None
    for x, y in zip(X, Y):
        loss = loss_fn([Value(float(v)) for v in x], [Value(float(v)) for v in y])
        total = loss if total is None else total + loss
    total = total * (1.0 / len(X)) if len(X) > 1 else total
    total.backward()
    return total.data, [p.grad for p in params]


def compiled_step(step, params, X, Y):
    for p in params:
        p.grad = 0.0
    loss = step(X, Y)
    return loss, [p.grad for p in params]


def assert_close(a, b, rel=1e-12):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(np.abs(b).max(), 1e-300)
    assert np.abs(a - b).max() <= rel * scale, (a, b)


def _model_loss(model, loss, k):
    """loss_fn(x, y) for one of nn's losses; y is the one-hot row or a number."""
    if loss in ("softmax_cross_entropy", "cross_entropy"):

        def fn(x, y):
            z = model(x)
            if loss == "cross_entropy":
                return nn.cross_entropy(nn.softmax(z), y)
            return nn.softmax_cross_entropy(z, y)

    else:
        loss_of = getattr(nn, loss)

        def fn(x, y):
            out = model(x)
            if loss == "binary_cross_entropy":
                out = out.sigmoid()
            return loss_of(out, y[0])

    return fn


LOSSES = {
    "softmax_cross_entropy": 3,
    "cross_entropy": 3,
    "mse": 1,
    "hinge": 1,
    "binary_cross_entropy": 1,
    "binary_cross_entropy_with_logits": 1,
}


@pytest.mark.parametrize("activation", nn.ACTIVATIONS)
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_random_mlp_every_activation_and_loss(activation, loss):
    k = LOSSES[loss]
    rng = np.random.default_rng(len(activation) * 7 + len(loss))
    model = nn.MLP(3, [5, 4, k], activation, seed=int(rng.integers(1000)))
    fn = _model_loss(model, loss, k)
    step = ag.compile(fn, model.parameters())
    for n in (1, 2, 9, 64):
        X = rng.normal(size=(n, 3))
        if k > 1:
            Y = np.eye(k)[rng.integers(k, size=n)]
        elif loss == "hinge":
            Y = rng.choice([-1.0, 0.0, 1.0], size=n)
        elif loss == "mse":
            Y = rng.normal(size=n)
        else:
            Y = rng.uniform(0, 1, size=n).round(1)
        expected_loss, expected_grads = scalar_step(fn, model.parameters(), X, Y)
        got_loss, got_grads = compiled_step(step, model.parameters(), X, Y)
        assert_close(got_loss, expected_loss)
        assert_close(got_grads, expected_grads)


@pytest.mark.parametrize("n", [1, 2, 3, 16, 100, 257])
def test_batch_sizes(n):
    model = nn.MLP(4, [6, 6, 3], "tanh", seed=n)
    fn = _model_loss(model, "softmax_cross_entropy", 3)
    rng = np.random.default_rng(n)
    X, Y = rng.normal(size=(n, 4)), np.eye(3)[rng.integers(3, size=n)]
    step = ag.compile(fn, model.parameters())
    assert_close(
        compiled_step(step, model.parameters(), X, Y)[1],
        scalar_step(fn, model.parameters(), X, Y)[1],
    )


def test_gradients_are_added_like_backward():
    w = Value(2.0)
    step = ag.compile(lambda x, y: (w * x[0] - y[0]) ** 2, [w])
    w.grad = 1.0
    loss = step([[1.0], [3.0]], [0.0, 1.0])  # mean of (2·1 − 0)², (2·3 − 1)² = 14.5
    assert loss == 14.5
    assert w.grad == 1.0 + (2 * 2 * 1 + 2 * 5 * 3) / 2  # += ∂L/∂w = mean of 2(wx − y)x


def test_expressions_with_every_op_and_shared_nodes():
    """A graph with reuse, every op, parameter-only parts and mixed static/sample products."""
    a, b = Value(0.7, label="a"), Value(-0.4, label="b")

    def fn(x, y):
        u = a * x[0] + b * x[1] + a * b  # a·b: parameter-only
        v = (u.tanh() + x[0].sigmoid() * u) / (1.5 + x[1] * x[1])
        w = v.exp().log() + (x[0] ** 2) * a - (-v).relu() + v.max(x[1])
        z = (1.0 + x[0] * x[0]) ** (a * 0.5)  # powv
        t = (x[1] * b).abs() + (u * a).sin() * x[0].cos() + (1.0 + v * v).sqrt()
        return w * w + z + a**3 + (a * b).exp() - y[0] * v + t

    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(33, 2)), rng.normal(size=33)
    step = ag.compile(fn, [a, b])
    got = compiled_step(step, [a, b], X, Y)
    expected = scalar_step(fn, [a, b], X, Y)
    assert_close(got[0], expected[0])
    assert_close(got[1], expected[1])


def test_max_tie_splits_half_half_and_relu_at_zero():
    w = Value(1.0)
    step = ag.compile(lambda x, y: w.max(x[0]) + (w - x[0]).relu(), [w])
    w.grad = 0.0
    step([[1.0]], [0.0])  # tie: ½ to w; relu'(0) = 0
    assert w.grad == 0.5


def test_zero_local_derivative_against_infinity_contributes_zero():
    """relu(w·x)^0.5 at w·x ≤ 0: relu' = 0 times the infinite slope of √ at 0 gives 0."""
    w = Value(1.0)
    step = ag.compile(lambda x, y: (w * x[0]).relu() ** 0.5, [w])
    w.grad = 0.0
    step([[4.0], [-1.0]], [0.0, 0.0])
    # Only the first row counts: ∂/∂w √(4w) / 2 = (½ · 4 / √4) / 2 = 0.5
    assert w.grad == 0.5


def test_parameter_only_values_and_demo_step_agree():
    """micrograd's demo step, its L2 term inside loss_fn: loss and gradients to 1e-12."""
    X, y01 = nn.data.make_moons(100, noise=0.1, seed=0)
    Y = y01 * 2.0 - 1.0
    model = nn.MLP(2, [16, 16, 1], seed=1)
    params = model.parameters()

    def fn(x, y):
        return (1 + -y[0] * model(x)).relu() + 1e-4 * sum(p * p for p in params)

    step = ag.compile(fn, params)
    got = compiled_step(step, params, X, Y)
    expected = demo_step_scalar(model, X, Y)
    assert abs(got[0] - expected[0]) <= 1e-12 * abs(expected[0])
    assert_close(got[1], expected[1])
    # The L2 term is computed once per call: it is not part of the per-sample work.
    program = step._programs[(2, 1)][0]
    static_columns = program.width[1] - 1 - len(params)
    assert static_columns >= 1 and program.width[0] < 100


def demo_step_scalar(model, X, Y):
    """micrograd's demo loss as micrograd writes it: mean hinge loss, then + 1e-4·Σp² once."""
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    losses = [(1 + -float(y) * model([Value(a), Value(b)])).relu() for (a, b), y in zip(X, Y)]
    total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
    total.backward()
    return total.data, [p.grad for p in params]


def test_thirty_sgd_steps_follow_the_scalar_trajectory():
    X, y01 = nn.data.make_moons(40, noise=0.1, seed=0)  # 40 points keep the scalar side quick
    Y = y01 * 2.0 - 1.0
    scalar, compiled = nn.MLP(2, [16, 16, 1], seed=1), nn.MLP(2, [16, 16, 1], seed=1)
    params = compiled.parameters()
    step = ag.compile(
        lambda x, y: (1 + -y[0] * compiled(x)).relu() + 1e-4 * sum(p * p for p in params), params
    )
    for k in range(30):
        lr = 1.0 - 0.9 * k / 100
        a = demo_step_scalar(scalar, X, Y)
        b = compiled_step(step, params, X, Y)
        assert abs(a[0] - b[0]) <= 1e-10
        for m, grads in ((scalar, a[1]), (compiled, b[1])):
            for p, g in zip(m.parameters(), grads):
                p.data -= lr * g
    assert_close([p.data for p in params], [p.data for p in scalar.parameters()], rel=1e-10)


# ---------------------------------------------------------------------------
# What compile refuses, and how it says so.


def test_branch_on_data_is_refused():
    w = Value(0.5)

    def fn(x, y):
        return (w * x[0]).tanh() if x[0].data > 0 else (w * x[0]).sigmoid()

    step = ag.compile(fn, [w])
    with pytest.raises(ValueError, match=r"rows 0 and 1 differ at node %3.*branches on the data"):
        step([[1.0], [-1.0]], [0.0, 0.0])


def test_baked_in_sample_constant_is_refused():
    w = Value(0.5)
    step = ag.compile(lambda x, y: (w * x[0] - float(y[0].data)) ** 2, [w])
    with pytest.raises(ValueError, match=r"constant 1\.0 for sample row 0 but 2\.0 for row 1"):
        step([[1.0], [1.0]], [1.0, 2.0])


def test_a_value_made_from_the_sample_is_refused():
    w = Value(0.5)
    step = ag.compile(lambda x, y: w * Value(x[0].data * 2.0), [w])
    with pytest.raises(ValueError, match=r"node %1 is the Value 2\.0 for sample row 0 but 4\.0"):
        step([[1.0], [2.0]], [0.0, 0.0])
    assert str(step.tape).splitlines()[1] == "%1 = value 2.0"


def test_check_waits_for_a_differing_sample():
    w = Value(0.5)
    step = ag.compile(lambda x, y: (w * x[0] - float(y[0].data)) ** 2, [w])
    step([[1.0]], [1.0])  # one sample: its own tape is exact
    with pytest.raises(ValueError, match="constant"):
        step([[1.0], [3.0]], [1.0, 3.0])


def test_out_of_domain_sample_names_the_op_and_row():
    w = Value(1.0)
    step = ag.compile(lambda x, y: (w * x[0]).log(), [w])
    with pytest.raises(ValueError, match=r"log: log of -2\.0 is undefined.*sample row 2"):
        step([[1.0], [3.0], [-2.0]], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="sample row 0"):  # the traced sample itself
        step([[-1.0], [3.0]], [0.0, 0.0])


def test_inside_no_grad_a_step_only_evaluates():
    w = Value(2.0)
    step = ag.compile(lambda x, y: (w * x[0] - y[0]) ** 2, [w])
    with ag.no_grad():  # the first call traces (recording anyway) and adds nothing
        assert step([[1.0], [3.0]], [0.0, 1.0]) == 14.5
    assert w.grad == 0.0
    step([[1.0], [3.0]], [0.0, 1.0])
    assert w.grad == 17.0


def test_detect_anomaly_names_the_op_and_row():
    w = Value(1.0)
    fn = lambda x, y: (w * x[0]) * x[0]  # noqa: E731
    X = [[1.0], [1e200], [2.0]]
    with ag.detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"mul: forward produced inf") as scalar:
            scalar_step(fn, [w], X, [0.0, 0.0, 0.0])
        step = ag.compile(fn, [w])
        with pytest.raises(FloatingPointError, match=r"mul: forward produced inf.*sample row 1"):
            step(X, [0.0, 0.0, 0.0])  # raised while tracing the second sample
        step(X[:1], [0.0])  # traced on a finite sample: now the replay itself checks
        with pytest.raises(FloatingPointError, match=r"mul: forward produced inf.*sample row 1"):
            step([[3.0], [1e200]], [0.0, 0.0])
    assert "detect_anomaly" in str(scalar.value)
    w.grad = 0.0
    assert step(X, [0.0, 0.0, 0.0]) == math.inf  # outside the block: no check


def test_bad_arguments():
    w = Value(1.0)
    with pytest.raises(TypeError, match="every parameter must be a Value"):
        ag.compile(lambda x, y: w, [1.0])
    step = ag.compile(lambda x, y: 3.0, [w])
    with pytest.raises(TypeError, match="must return a Value"):
        step([[1.0]], [1.0])
    with pytest.raises(ValueError, match=r"X must be \(n, d\)"):
        ag.compile(lambda x, y: w * x[0], [w])(np.zeros((2, 1)), np.zeros(3))


def test_tape_of_one_neuron_reads_as_a_program():
    neuron = nn.Neuron(2, "tanh", seed=0)
    step = ag.compile(lambda x, y: (neuron(x) - y[0]) ** 2, neuron.parameters())
    step([[1.0, 2.0], [0.5, -1.0]], [1.0, 0.0])
    text = str(step.tape)
    assert "= x[0]" in text and "= param[0]  N0.w0" in text and "= tanh %" in text
    assert text.splitlines()[-1] == f"loss = %{len(step.tape) - 1}"
    assert [e.op for e in step.tape].count("mul") == 2
    op, parents = step.tape[-1][:2]
    assert op == "pow" and len(parents) == 2


def test_has_aux_returns_the_outputs():
    model = nn.MLP(2, [3, 2], seed=0)
    step = ag.compile(
        lambda x, y: (nn.softmax_cross_entropy(z := model(x), y), z),
        model.parameters(),
        has_aux=True,
    )
    X = np.array([[0.1, 0.2], [0.3, -1.0]])
    loss, outputs = step(X, np.eye(2))
    assert outputs.shape == (2, 2)
    assert_close(outputs[1], [v.data for v in model(X[1].tolist())])


# ---------------------------------------------------------------------------
# fit(compile=True)


@pytest.mark.parametrize("loss, outputs", [("softmax_cross_entropy", 3), ("hinge", 1), ("mse", 1)])
def test_fit_compiled_equals_fit(loss, outputs):
    X, y = nn.data.make_blobs(48, centers=3 if outputs == 3 else 2, seed=1)
    runs = []
    for compile in (False, True):
        model = nn.MLP(2, [8, outputs], "tanh", seed=0)
        history = nn.train.fit(
            model,
            X,
            y,
            loss=loss,
            optimizer=nn.optim.Adam(model.parameters(), lr=0.02),
            epochs=8,
            batch_size=10,
            progress=False,
            compile=compile,
        )
        runs.append((history, [p.data for p in model.parameters()]))
    (h0, p0), (h1, p1) = runs
    assert np.abs(np.subtract(h0.loss, h1.loss)).max() <= 1e-10
    assert h0.accuracy == h1.accuracy
    assert np.abs(np.subtract(p0, p1)).max() <= 1e-10


# ---------------------------------------------------------------------------
# Random graphs with reuse (hypothesis): every op, parameter-only parts, shared nodes.


# Each entry builds a node from one or two earlier ones, kept inside the op's domain.
BUILDERS = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (1.5 + b * b),
    lambda a, b: a.max(b),
    lambda a, b: (1.0 + a * a) ** b.tanh(),  # powv
    lambda a, b: -a,
    lambda a, b: a.tanh(),
    lambda a, b: a.sigmoid(),
    lambda a, b: a.relu(),
    lambda a, b: a.tanh().exp(),
    lambda a, b: (1.0 + a * a).log(),
    lambda a, b: a**2,
    lambda a, b: a.abs(),
    lambda a, b: a.sin(),
    lambda a, b: a.cos(),
    lambda a, b: (0.5 + a * a).sqrt(),
    lambda a, b: 3.0 * a + b,
]


@settings(max_examples=60, deadline=None)
@given(
    program=st.lists(
        st.tuples(st.integers(0, len(BUILDERS) - 1), st.integers(0, 10**6), st.integers(0, 10**6)),
        min_size=1,
        max_size=25,
    ),
    n=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_random_graphs_with_reuse(program, n, seed):
    params = [Value(0.3), Value(-0.7), Value(1.1)]

    def fn(x, y):
        nodes = [*x, *y, *params]
        for op, i, j in program:
            nodes.append(BUILDERS[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
        return nodes[-1] + nodes[-2] * nodes[len(nodes) // 2]

    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, 2)), rng.normal(size=n)
    X[0] = [0.0, 0.3]  # a sample at the kinks (relu, abs, max ties)
    expected = scalar_step(fn, params, X, Y)
    assume(np.isfinite(expected[0]) and np.isfinite(expected[1]).all())  # no overflow
    got = compiled_step(ag.compile(fn, params), params, X, Y)
    scale = max(1.0, abs(expected[0]))
    assert abs(got[0] - expected[0]) <= 1e-10 * scale
    assert np.allclose(
        got[1], expected[1], rtol=1e-9, atol=1e-10 * max(1.0, *map(abs, expected[1]))
    )
