"""Oracles that are not ours: HIPS autograd and PyTorch agree with autograd-lite.

Hypothesis draws random expression graphs as small programs: a few leaves,
then nodes that each apply one kind of operation to *earlier* nodes, chosen at
random, so a node is often the operand of several later ones (a DAG with
reused nodes, where gradients must accumulate). The output is the sum of the
nodes no other node uses. The kinds of operation cover every op of the table,
with operands kept in the op's domain (``log(a·a + 0.5)``, ``(a·a + 0.5) ** b``,
``a / (b·b + 0.5)``); programs whose values grow past 10³ are discarded.

The same program runs in autograd-lite, in HIPS autograd (NumPy float64) and
in PyTorch (float64, skipped when torch is not installed). This file proves:

- the value and the gradient with respect to every leaf agree to 1e-9
  relative, and ``backward`` agrees with ``grad``;
- second derivatives (the Hessian from ``create_graph``) agree with torch, on
  random programs and on a few named functions (softmax cross-entropy, whose
  Hessian is diag(a) − a·aᵀ, and a logistic-regression loss).

Conventions agree too: relu'(0) = 0, and a tie of max sends ½ to each side in
all three engines, so ties drawn by hypothesis (``max(a, a)``) need no care.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, NamedTuple

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import OPS, Value, grad, hessian, topological_order

# --- programs -------------------------------------------------------------------

# Each kind builds one node from operands a and b (unary kinds ignore b) with
# the functions of a backend m, so one definition runs in every engine.
KINDS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "neg": lambda m, a, b: -a,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b * b + 0.5),
    "square": lambda m, a, b: a**2,  # pow: an integer exponent takes any base
    "cube": lambda m, a, b: a**3,
    "sqrt": lambda m, a, b: (a * a + 0.5) ** 0.5,  # pow: a fractional exponent
    "rsqrt": lambda m, a, b: (a * a + 0.5) ** -1.5,
    "powv": lambda m, a, b: (a * a + 0.5) ** b,  # a Value exponent
    "exp": lambda m, a, b: m.exp(a),
    "log": lambda m, a, b: m.log(a * a + 0.5),
    "tanh": lambda m, a, b: m.tanh(a),
    "sigmoid": lambda m, a, b: m.sigmoid(a),
    "relu": lambda m, a, b: m.relu(a),
    "max": lambda m, a, b: m.maximum(a, b),
    "abs": lambda m, a, b: m.abs(a),
    "sin": lambda m, a, b: m.sin(a),
    "cos": lambda m, a, b: m.cos(a),
    "sqrt_op": lambda m, a, b: m.sqrt(a * a + 0.5),
}
UNARY = {"neg", "square", "cube", "sqrt", "rsqrt", "exp", "log", "tanh", "sigmoid", "relu"}
UNARY |= {"abs", "sin", "cos", "sqrt_op"}


class Program(NamedTuple):
    leaves: tuple[float, ...]
    nodes: tuple[tuple[str, int, int], ...]  # (kind, operand a, operand b), by index


def run(program: Program, leaves: list[Any], m: Any) -> Any:
    """Evaluate the program on the given leaves with backend m; return the output."""
    values = list(leaves)
    for kind, i, j in program.nodes:
        values.append(KINDS[kind](m, values[i], values[j]))
    used = {i for _, i, _ in program.nodes}
    used |= {j for kind, _, j in program.nodes if kind not in UNARY}
    sinks = [values[k] for k in range(len(leaves), len(values)) if k not in used]
    out = sinks[0]
    for s in sinks[1:]:
        out = out + s
    return out


@st.composite
def programs(draw: st.DrawFn, max_leaves: int = 4, max_nodes: int = 10) -> Program:
    n_leaves = draw(st.integers(1, max_leaves))
    leaf = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
    leaves = draw(st.lists(leaf, min_size=n_leaves, max_size=n_leaves))
    nodes = []
    for k in range(draw(st.integers(1, max_nodes))):
        kind = draw(st.sampled_from(sorted(KINDS)))
        available = n_leaves + k  # any earlier node, so nodes get reused
        operand = st.integers(0, available - 1)
        nodes.append((kind, draw(operand), draw(operand)))
    return Program(tuple(leaves), tuple(nodes))


def _float_sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


FLOATS = SimpleNamespace(
    exp=math.exp,
    log=math.log,
    tanh=math.tanh,
    sigmoid=_float_sigmoid,
    relu=lambda x: max(x, 0.0),
    maximum=max,
    abs=abs,
    sin=math.sin,
    cos=math.cos,
    sqrt=math.sqrt,
)
OURS = SimpleNamespace(
    exp=al.exp,
    log=al.log,
    tanh=al.tanh,
    sigmoid=al.sigmoid,
    relu=al.relu,
    maximum=al.maximum,
    abs=al.abs,
    sin=al.sin,
    cos=al.cos,
    sqrt=al.sqrt,
)
HIPS = SimpleNamespace(
    exp=anp.exp,
    log=anp.log,
    tanh=anp.tanh,
    sigmoid=lambda x: 0.5 * (anp.tanh(0.5 * x) + 1.0),  # = 1/(1 + e^−x)
    relu=lambda x: anp.where(x > 0, x, 0.0),  # slope 0 at 0 (anp.maximum would give ½)
    maximum=anp.maximum,  # ½ each at a tie, as ours
    abs=anp.abs,  # slope 0 at 0, as ours
    sin=anp.sin,
    cos=anp.cos,
    sqrt=anp.sqrt,
)

BOUND = 1e3


def tame(program: Program) -> bool:
    """True if every node of the program, evaluated on plain floats, stays within ±10³."""
    try:
        values = list(program.leaves)
        for kind, i, j in program.nodes:
            values.append(KINDS[kind](FLOATS, values[i], values[j]))
    except OverflowError:
        return False
    return all(math.isfinite(v) and abs(v) <= BOUND for v in values)


# The program below uses every kind once, each on earlier nodes, several reused.
EVERY_KIND = Program(
    leaves=(0.7, -1.3, 0.4),
    nodes=tuple(
        (kind, i, j)
        for kind, i, j in [
            ("mul", 0, 1),  # 3
            ("add", 3, 2),  # 4
            ("sub", 4, 0),  # 5
            ("neg", 5, 5),  # 6
            ("div", 3, 4),  # 7
            ("square", 6, 6),  # 8
            ("cube", 7, 7),  # 9
            ("sqrt", 5, 5),  # 10
            ("rsqrt", 3, 3),  # 11
            ("powv", 4, 6),  # 12
            ("exp", 7, 7),  # 13
            ("log", 12, 12),  # 14
            ("tanh", 8, 8),  # 15
            ("sigmoid", 9, 9),  # 16
            ("relu", 6, 6),  # 17
            ("max", 10, 15),  # 18
            ("max", 3, 3),  # 19: a tie
            ("relu", 19, 19),  # 20
            ("add", 18, 11),  # 21
            ("mul", 21, 13),  # 22
            ("abs", 5, 5),  # 23
            ("sin", 22, 22),  # 24
            ("cos", 23, 24),  # 25
            ("sqrt_op", 25, 25),  # 26
        ]
    ),
)


# --- the three engines ------------------------------------------------------------


def ours(program: Program) -> tuple[float, list[float]]:
    xs = [Value(v) for v in program.leaves]
    out = run(program, xs, OURS)
    gradients = [g.data for g in grad(out, xs)]
    out.backward()
    for k, x in enumerate(xs):
        assert x.grad == pytest.approx(gradients[k], rel=1e-12, abs=1e-15), "backward vs grad"
    return out.data, gradients


def hips(program: Program) -> tuple[float, list[float]]:
    n = len(program.leaves)
    f = autograd.value_and_grad(lambda v: run(program, [v[k] for k in range(n)], HIPS))
    value, gradients = f(np.array(program.leaves, dtype=np.float64))
    return float(value), [float(g) for g in gradients]


def torch_backend(torch: Any) -> SimpleNamespace:
    return SimpleNamespace(
        exp=torch.exp,
        log=torch.log,
        tanh=torch.tanh,
        sigmoid=torch.sigmoid,
        relu=torch.relu,
        maximum=torch.maximum,
        abs=torch.abs,
        sin=torch.sin,
        cos=torch.cos,
        sqrt=torch.sqrt,
    )


def torch_leaves(torch: Any, values: tuple[float, ...]) -> list[Any]:
    return [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]


def with_torch(torch: Any, program: Program) -> tuple[float, list[float]]:
    xs = torch_leaves(torch, program.leaves)
    out = run(program, xs, torch_backend(torch))
    gradients = torch.autograd.grad(out, xs, allow_unused=True)
    return out.item(), [0.0 if g is None else g.item() for g in gradients]


def torch_hessian(torch: Any, f: Callable[[Any, list[Any]], Any], at: list[float]) -> list[list]:
    """H[i][j] = ∂²f/∂x_i∂x_j by differentiating torch's create_graph gradient."""
    xs = torch_leaves(torch, tuple(at))
    out = f(torch_backend(torch), xs)
    first = torch.autograd.grad(out, xs, create_graph=True, allow_unused=True)
    rows = []
    for g in first:
        if g is None or not g.requires_grad:
            rows.append([0.0] * len(xs))
            continue
        second = torch.autograd.grad(g, xs, retain_graph=True, allow_unused=True)
        rows.append([0.0 if s is None else s.item() for s in second])
    return rows


def assert_agree(
    mine: tuple[float, list[float]], theirs: tuple[float, list[float]], who: str
) -> None:
    (value, gradients), (their_value, their_gradients) = mine, theirs
    assert value == pytest.approx(their_value, rel=1e-9, abs=1e-12), f"value vs {who}"
    assert len(gradients) == len(their_gradients)
    for k, (g, h) in enumerate(zip(gradients, their_gradients)):
        assert g == pytest.approx(h, rel=1e-9, abs=1e-12), f"∂out/∂leaf{k} vs {who}"


def assert_same_matrix(mine: list[list[float]], theirs: list[list[float]], who: str) -> None:
    assert len(mine) == len(theirs)
    for i, (row, their_row) in enumerate(zip(mine, theirs)):
        assert row == pytest.approx(their_row, rel=1e-9, abs=1e-11), f"row {i} vs {who}"


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


# --- the tests ---------------------------------------------------------------------


def test_the_kinds_cover_every_op() -> None:
    xs = [Value(v) for v in EVERY_KIND.leaves]
    used = {v.op for v in topological_order(run(EVERY_KIND, xs, OURS))}
    assert set(OPS) <= used, f"no kind of test_oracles.py uses {set(OPS) - used}"
    assert {kind for kind, _, _ in EVERY_KIND.nodes} == set(KINDS)
    assert tame(EVERY_KIND)


def test_every_kind_at_once_agrees_with_hips_autograd() -> None:
    assert_agree(ours(EVERY_KIND), hips(EVERY_KIND), "HIPS autograd")


def test_every_kind_at_once_agrees_with_torch(torch: Any) -> None:
    assert_agree(ours(EVERY_KIND), with_torch(torch, EVERY_KIND), "torch")


@settings(max_examples=100, deadline=None)
@given(program=programs())
def test_random_graphs_agree_with_hips_autograd(program: Program) -> None:
    assume(tame(program))
    assert_agree(ours(program), hips(program), "HIPS autograd")


@settings(max_examples=100, deadline=None)
@given(program=programs())
def test_random_graphs_agree_with_torch(torch: Any, program: Program) -> None:
    assume(tame(program))
    assert_agree(ours(program), with_torch(torch, program), "torch")


@settings(max_examples=40, deadline=None)
@given(program=programs(max_leaves=3, max_nodes=7))
def test_random_graphs_have_the_hessian_of_torch(torch: Any, program: Program) -> None:
    assume(tame(program))
    mine = hessian(lambda xs: run(program, xs, OURS), list(program.leaves))
    theirs = torch_hessian(torch, lambda m, xs: run(program, xs, m), list(program.leaves))
    assert_same_matrix(mine, theirs, "torch")


def test_every_kind_at_once_has_the_hessian_of_torch(torch: Any) -> None:
    mine = hessian(lambda xs: run(EVERY_KIND, xs, OURS), list(EVERY_KIND.leaves))
    theirs = torch_hessian(torch, lambda m, xs: run(EVERY_KIND, xs, m), list(EVERY_KIND.leaves))
    assert_same_matrix(mine, theirs, "torch")


def softmax_cross_entropy(m: Any, z: list[Any]) -> Any:
    """L = −log softmax(z)₀, computed after subtracting max z (MATH.md §3)."""
    top = m.maximum(m.maximum(z[0], z[1]), z[2])
    e = [m.exp(zi - top) for zi in z]
    return -m.log(e[0] / (e[0] + e[1] + e[2]))


def logistic_loss(m: Any, p: list[Any]) -> Any:
    """J = −(y log σ(wx + b) + (1 − y) log(1 − σ(wx + b))) with x = 1.5, y = 1 (MATH.md §2)."""
    w, b = p
    a = m.sigmoid(w * 1.5 + b)
    return -(1.0 * m.log(a) + (1 - 1.0) * m.log(1 - a))


def jax_example(m: Any, x: list[Any]) -> Any:
    return x[0] ** 3 - 2 * x[0] * x[1] - x[1] ** 6


NAMED = [
    (softmax_cross_entropy, [0.3, -1.2, 2.0]),
    (softmax_cross_entropy, [1.0, 1.0, 1.0]),  # a three-way tie inside max
    (logistic_loss, [0.8, -0.3]),
    (jax_example, [1.0, 2.0]),
]


@pytest.mark.parametrize(("f", "at"), NAMED, ids=[f"{f.__name__}{at}" for f, at in NAMED])
def test_named_functions_have_the_hessian_of_torch(torch: Any, f: Callable, at: list) -> None:
    mine = hessian(lambda xs: f(OURS, xs), at)
    assert_same_matrix(mine, torch_hessian(torch, f, at), "torch")


def test_softmax_cross_entropy_hessian_is_diag_a_minus_a_a_transposed() -> None:
    z = [0.3, -1.2, 2.0]
    e = [math.exp(v) for v in z]
    a = [v / sum(e) for v in e]
    expected = [[(a[i] if i == j else 0.0) - a[i] * a[j] for j in range(3)] for i in range(3)]
    mine = hessian(lambda xs: softmax_cross_entropy(OURS, xs), z)
    assert_same_matrix(mine, expected, "diag(a) − a·aᵀ")
