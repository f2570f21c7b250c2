"""What issue 18 added to compile, each held to the scalar engine or to float64.

1. ``fit(compile=True)`` with nn's optimizers updates the compiled step's flat
   parameter array (no Value touched per step) and ends with the parameters,
   gradients and optimizer state of ``fit()``.
2. ``dtype="float32"``: every op and random MLPs within the documented tolerance
   of float64.
3. ``print(step.program)``: the matrix program of an MLP, in derivations.md §4's
   notation, line for line.
4. The max chain of a softmax is one running maximum with the chain's gradient
   (ties split ½ as the scalar max op does); buffers are reused between calls, and the
   gradient array is not zeroed: the first write to a column assigns it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_compiled import compiled_step, scalar_step

import autograd_lite as ag
import nn
from autograd_lite import OPS, Value
from autograd_lite.compiled import FLOAT32_RTOL

# ---------------------------------------------------------------------------
# 1. fit's flat fast path.


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        lambda ps: nn.optim.SGD(ps, lr=0.1),
        lambda ps: nn.optim.Adam(ps, lr=0.02, weight_decay=0.001),
        lambda ps: nn.optim.AdamW(ps, lr=0.02),
    ],
    ids=["sgd-momentum-decay", "sgd", "adam-decay", "adamw"],
)
def test_fit_flat_path_equals_fit(make, monkeypatch):
    X, y = nn.data.make_blobs(30, centers=3, seed=2)
    runs = []
    for compile in (False, True):
        model = nn.MLP(2, [6, 3], "relu", seed=3)
        optimizer = make(model.parameters())
        if compile:  # the Value optimizer never runs: the flat array is updated instead
            monkeypatch.setattr(type(optimizer), "step", lambda self: pytest.fail("Value step"))
        history = nn.train.fit(
            model,
            X,
            y,
            optimizer=optimizer,
            epochs=4,
            batch_size=8,
            progress=False,
            compile=compile,
        )
        monkeypatch.undo()
        state = [getattr(optimizer, k, None) for k in ("m", "v", "velocity", "t")]
        ps = model.parameters()
        runs.append((history.loss, [p.data for p in ps], [p.grad for p in ps], state))
    (l0, d0, g0, s0), (l1, d1, g1, s1) = runs
    assert np.allclose(l0, l1, rtol=1e-12, atol=0)
    assert np.allclose(d0, d1, rtol=1e-12, atol=1e-15)
    assert np.allclose(g0, g1, rtol=1e-10, atol=1e-15)  # the last batch's gradient
    for a, b in zip(s0, s1):
        assert (a is None and b is None) or np.allclose(a, b, rtol=1e-10, atol=1e-15)


def test_flat_step_leaves_the_values_alone_until_pushed():
    w = Value(2.0)
    step = ag.compile(lambda x, y: (w * x[0] - y[0]) ** 2, [w])
    step.pull()
    loss, grad = step.flat([[1.0], [3.0]], [0.0, 1.0])
    assert loss == 14.5 and grad.tolist() == [17.0] and w.grad == 0.0
    step.theta -= 0.5 * grad
    assert w.data == 2.0
    step.push()
    assert w.data == 2.0 - 8.5


# ---------------------------------------------------------------------------
# 2. float32 within its tolerance.


def _unary_or_binary(name):
    return {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / (1.5 + b * b),
        "pow": lambda a, b: (1.0 + a * a) ** 1.5,
        "powv": lambda a, b: (1.0 + a * a) ** b.tanh(),
        "log": lambda a, b: (1.0 + a * a).log(),
        "sqrt": lambda a, b: (0.5 + a * a).sqrt(),
        "max": lambda a, b: a.max(b),
    }.get(name, lambda a, b: getattr(a, name)() if name != "neg" else -a)


@pytest.mark.parametrize("name", sorted(OPS))
def test_float32_every_op_within_tolerance(name):
    """Each op inside a small model: float32 loss and gradients against float64."""
    a, b = Value(0.7), Value(-0.4)
    op = _unary_or_binary(name)

    def fn(x, y):
        return (op(a * x[0] + b, b * x[1] - a) - y[0]) ** 2

    rng = np.random.default_rng(len(name))
    X, Y = rng.normal(size=(50, 2)), rng.normal(size=50)
    expected = compiled_step(ag.compile(fn, [a, b]), [a, b], X, Y)
    got = compiled_step(ag.compile(fn, [a, b], dtype="float32"), [a, b], X, Y)
    assert abs(got[0] - expected[0]) <= FLOAT32_RTOL * max(1.0, abs(expected[0]))
    scale = max(np.abs(expected[1]).max(), 1e-30)
    assert np.abs(np.subtract(got[1], expected[1])).max() <= FLOAT32_RTOL * scale


def test_float32_mlp_softmax_within_tolerance():
    model = nn.MLP(8, [16, 16, 4], seed=0)
    fn = lambda x, y: nn.softmax_cross_entropy(model(x), y)  # noqa: E731
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(200, 8)), np.eye(4)[rng.integers(4, size=200)]
    ps = model.parameters()
    expected = scalar_step(fn, ps, X, Y)
    got = compiled_step(ag.compile(fn, ps, dtype="float32"), ps, X, Y)
    assert abs(got[0] - expected[0]) <= FLOAT32_RTOL * abs(expected[0])
    assert (
        np.abs(np.subtract(got[1], expected[1])).max() <= FLOAT32_RTOL * np.abs(expected[1]).max()
    )


def test_bad_dtype_is_refused():
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32', got 'int8'"):
        ag.compile(lambda x, y: x[0], [], dtype="int8")


# ---------------------------------------------------------------------------
# 3. The matrix program.


def test_program_of_an_mlp_reads_as_derivations_section_4():
    model = nn.MLP(3, [5, 4, 3], seed=0)
    step = ag.compile(lambda x, y: nn.softmax_cross_entropy(model(x), y), model.parameters())
    step(np.ones((4, 3)) * [[1], [2], [3], [4]], np.eye(3)[[0, 1, 2, 0]])
    text = str(step.program)
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    for expected in [
        "Z1 = X·W1ᵀ + b1",
        "H1 = relu(Z1)",
        "Z2 = H1·W2ᵀ + b2",
        "Z3 = H2·W3ᵀ + b3",
        "L = mean(logsumexp(Z3) − Z3[y])",
        "dZ3 = (softmax(Z3) − Y)/n",
        "dW3 = dZ3ᵀ·H2",
        "db3 = Σrows dZ3",
        "dH2 = dZ3·W3",
        "dZ2 = dH2 ⊙ 1[Z2 > 0]",
        "dW1 = dZ1ᵀ·X",
    ]:
        assert expected in lines, (expected, text)
    assert lines.index("backward:") + 1 == lines.index("dZ3 = (softmax(Z3) − Y)/n")
    assert lines.index("dW3 = dZ3ᵀ·H2") < lines.index("dZ2 = dH2 ⊙ 1[Z2 > 0]")
    z1 = next(line for line in text.splitlines() if line.strip().startswith("Z1 ="))
    assert "5 nodes, level 1" in z1  # the five sums of the first layer, from the tape


@pytest.mark.parametrize(
    "X, Y",
    [  # soft targets; a NaN logit (the plain program takes over, with the engine's
        # masks); an overflowing logit
        ([[0.5, -1.0], [2.0, 0.3], [-0.7, 0.1]], [[0.2, 0.5, 0.3], [0, 0, 1], [0.5, 0, 0.5]]),
        ([[0.5, -1.0], [math.nan, 0.3], [-0.7, 0.1]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
        ([[0.5, -1.0], [1e308, 1e308], [-0.7, 0.1]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
    ],
)
def test_fused_softmax_cross_entropy_equals_the_scalar_engine(X, Y):
    model = nn.MLP(2, [4, 3], seed=2)
    params = model.parameters()
    fn = lambda x, y: nn.softmax_cross_entropy(model(x), y)  # noqa: E731
    step = ag.compile(fn, params)
    loss, grads = compiled_step(step, params, X, Y)
    assert "softmax cross-entropy over 3 logits" in step.plan[-1]
    want, want_grads = scalar_step(fn, params, X, Y)
    np.testing.assert_allclose([loss, *grads], [want, *want_grads], rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------
# 4. The running maximum, and reused buffers.


@pytest.mark.parametrize(
    "row", [[1.0, 3.0, 2.0, 3.0], [2.0, 2.0, 2.0, 2.0], [0.0, -0.0, 0.0, -1.0], [1, math.nan, 0, 2]]
)
def test_max_chain_is_one_running_maximum_with_the_chains_gradient(row):
    a = Value(1.0)

    def fn(x, y):
        m = (a * x[0]).max(x[1]).max(x[2]).max(x[3])
        return (m * a).sqrt() + m  # √ of a signed zero: its slope's sign shows the max's

    step = ag.compile(fn, [a])
    X = [row, [0.5, 0.25, 4.0, 1.0]]
    expected = scalar_step(fn, [a], X, [0.0, 0.0])
    got = compiled_step(step, [a], X, [0.0, 0.0])
    assert "max over 4 (a running maximum)" in "\n".join(step.plan)
    same = lambda u, v: (math.isnan(u) and math.isnan(v)) or u == v  # noqa: E731
    assert _same(got[0], expected[0]) and same(got[1][0], expected[1][0]), (got, expected)


def test_buffers_are_reused_between_calls_of_one_batch_size():
    model = nn.MLP(2, [4, 1], seed=0)
    step = ag.compile(lambda x, y: (model(x) - y[0]) ** 2, model.parameters())
    X, Y = np.ones((7, 2)), np.zeros(7)
    step(X, Y)
    D = step.program.buffers(7).A[0]
    step(X, Y)
    assert step.program.buffers(7).A[0] is D
    assert step.program.x_in_D is False  # the layer reads X itself


def _reused_gradients_loss(w, v):
    """A loss whose per-sample gradient columns are written in every way the backward
    pass writes: first by assignment (relu, the layer's products), added onto by a
    second reader of one column (h used twice, x·x), a column whose gradient nothing
    writes (a Value compared but not below the loss), and a zero derivative."""

    def loss_fn(x, y):
        h = (w[0] * x[0] + w[1] * x[1] + w[2]).relu()
        u = v[0] * h + v[1] * x[0] * x[0] + h * h
        unused = w[0] * x[1]  # noqa: F841  (not below the loss: its gradient is 0)
        return (u - y[0]) ** 2 + (x[1] ** 2.0) * w[3]

    return loss_fn


def _same(a, b):
    """Equal to 1e-12, or both NaN."""
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12 * max(1.0, abs(b))


def test_gradient_columns_are_assigned_first_and_never_read_stale():
    """Calls of one batch size reuse the gradient array without zeroing it: every column
    is assigned before it is read or added into. A different batch each call, and a
    careful (NaN) call between, must give the scalar engine's gradients every time."""
    w = [Value(0.3), Value(-0.2), Value(0.1), Value(0.5)]
    v = [Value(0.7), Value(-0.4)]
    params = [*w, *v]
    fn = _reused_gradients_loss(w, v)
    step = ag.compile(fn, params)
    rng = np.random.default_rng(0)
    for call in range(6):
        X, Y = rng.normal(size=(9, 2)), rng.normal(size=9)
        if call == 3:  # a row with an infinity: the careful pass, all zeroed
            X[4, 0] = math.inf
        got = compiled_step(step, params, X, Y)
        expected = scalar_step(fn, params, X, Y)
        assert _same(got[0], expected[0]), (call, got[0], expected[0])
        assert all(_same(a, b) for a, b in zip(got[1], expected[1])), (call, got, expected)
    assert step.program.zero_runs  # x·x's and the sums' terms are added into: zeroed
    assigned = sum(len(g.assign) for g in step.program.groups)
    assert assigned >= 2  # relu's input and the layer's products are assigned


def test_program_prints_a_sum_of_parameter_only_terms_the_plan_made():
    """Two parameter-only terms of a per-sample sum become one sum the plan made (no
    tape position); the printed program counts it apart (it raised TypeError)."""
    w0, w1, w2 = Value(0.3), Value(-0.7), Value(1.1)

    def fn(x, y):
        inner = ((3.0 * w1 + (w1 + (w2 + y[0]))) ** 2 + 0.5).sqrt()
        return inner + x[0].cos().abs() * (0.5 + w0 * w0).sqrt()

    step = ag.compile(fn, [w0, w1, w2])
    step([[0.4]], [0.5])
    text = str(step.program)
    assert "1 sum of parameter-only terms made by the plan" in text
    assert "None" not in text
