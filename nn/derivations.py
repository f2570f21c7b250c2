"""The derivations of docs/derivations.md as one registry of checks.

Each entry of ``REGISTRY`` is a :class:`Derivation`: the section of
docs/derivations.md it confirms (``"§1.2"``, see :data:`SECTIONS` for each
section's title and anchor), a short title, and a function returning
``(closed_form, automatic)``, two NumPy arrays of the same shape:

- ``closed_form`` is computed with NumPy from the formula derived in that section;
- ``automatic`` is the engine's gradient of a graph of scalar Values, built
  with nn's functions and models where they fit (``softmax``,
  ``cross_entropy``, ``Neuron``, ``Layer``, ``MLP``, ``optim.SGD``).

``run_all()`` evaluates every entry and returns one :class:`Row` per entry
(section, title, max |closed − automatic|, ok). Inputs come from fixed random
generators, so the table is the same on every run. Entries are registered with
the ``@derivation(section, title)`` decorator right above their function.
``tests/test_derivations.py`` proves that every section of the page has a check
and every check names a section of the page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from autograd_lite import Value, grad, jacobian

from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    softmax,
    softmax_cross_entropy,
)
from .module import MLP, Layer, Neuron
from .optim import SGD

Pair = tuple[np.ndarray, np.ndarray]

TOLERANCE = 1e-10


DOC = "docs/derivations.md"


class Section(NamedTuple):
    """A section of docs/derivations.md: its number, its explicit anchor and its title."""

    number: str
    anchor: str
    title: str

    @property
    def link(self) -> str:
        """Where it is, relative to the repository: ``docs/derivations.md#sigmoid``."""
        return f"{DOC}#{self.anchor}"


# The sections of docs/derivations.md, in order. Anchors are explicit (<a id="...">) so that
# links stay valid when a heading is reworded.
SECTIONS: dict[str, Section] = {
    s.number: s
    for s in (
        Section("§1.1", "relu", "ReLU"),
        Section("§1.2", "sigmoid", "The sigmoid"),
        Section("§1.3", "tanh", "tanh"),
        Section("§2.1", "neuron", "The chain for one point"),
        Section("§2.2", "batch-columns", "Many points, one point per column"),
        Section("§2.3", "batch-rows", "Many points, one point per row"),
        Section("§2.4", "gradient-descent", "A step of gradient descent"),
        Section("§3.1", "softmax-jacobian", "The softmax and its Jacobian"),
        Section("§3.2", "softmax-cross-entropy", "Cross-entropy through the softmax"),
        Section("§3.3", "worked-example", "A worked example"),
        Section("§3.4", "two-classes", "Two classes: the softmax is a sigmoid"),
        Section("§3.5", "subtract-max", "Why the largest logit is subtracted first"),
        Section("§3.6", "output-layer", "A linear output layer"),
        Section("§4.1", "mlp-rows", "Two ReLU layers and a softmax, in matrix form"),
        Section("§4.2", "layer-recursion", "The layer recursion, one point per column"),
        Section("§4.3", "full-chain", "The whole chain for a first-layer weight"),
    )
}


class Derivation(NamedTuple):
    """One check: ``compute()`` returns (closed form, automatic)."""

    section: str
    title: str
    compute: Callable[[], Pair]


class Row(NamedTuple):
    """One line of the report: the largest |closed − automatic| and whether it is ≤ tol."""

    section: str
    title: str
    max_abs_error: float
    ok: bool


REGISTRY: list[Derivation] = []


def derivation(section: str, title: str) -> Callable[[Callable[[], Pair]], Callable[[], Pair]]:
    """Register ``fn`` (returning (closed form, automatic)) under ``section`` and ``title``."""

    def register(fn: Callable[[], Pair]) -> Callable[[], Pair]:
        REGISTRY.append(Derivation(section, title, fn))
        return fn

    return register


def check(entry: Derivation, tol: float = TOLERANCE) -> Row:
    """Evaluate one entry: max |closed − automatic| (inf if the shapes differ)."""
    closed, automatic = (np.asarray(a, dtype=np.float64) for a in entry.compute())
    if closed.shape != automatic.shape:
        error = float("inf")
    else:
        error = float(np.max(np.abs(closed - automatic))) if closed.size else 0.0
    return Row(entry.section, entry.title, error, error <= tol)


def run_all(tol: float = TOLERANCE) -> list[Row]:
    """Every registered derivation, checked: one Row per entry, in registry order."""
    return [check(entry, tol) for entry in REGISTRY]


# ---------------------------------------------------------------------------------------
# Helpers: gradients from the engine, and NumPy closed forms.


def _grads(output: Value, inputs: Sequence[Value]) -> np.ndarray:
    """d output / d x for each x (any node of the graph), as an array."""
    return np.array([g.data for g in grad(output, list(inputs))])


def _derivative(f: Callable[[Value], Value], xs: np.ndarray) -> np.ndarray:
    """f'(x) by the engine at every point of xs."""
    out = []
    for x in xs:
        v = Value(float(x), label="x")
        out.append(_grads(f(v), [v])[0])
    return np.array(out)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row's max."""
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _affine(x: Sequence[Value], W: list[list[Value]], b: list[Value]) -> list[Value]:
    """Row convention z_j = b_j + Σ_i x_i W_ij, one chain of additions per output."""
    out = []
    for j, bj in enumerate(b):
        z = bj
        for i, xi in enumerate(x):
            z = z + xi * W[i][j]
        out.append(z)
    return out


def _values(a: np.ndarray, name: str) -> list:
    """A NumPy vector or matrix as (nested lists of) leaf Values labelled name[i][j]."""
    if a.ndim == 1:
        return [Value(float(v), label=f"{name}[{i}]") for i, v in enumerate(a)]
    return [_values(row, f"{name}[{i}]") for i, row in enumerate(a)]


def _layer_matrix(layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    """A Layer's weights as W (nout × nin, column convention: row j is neuron j) and b."""
    W = np.array([[w.data for w in n.w] for n in layer.neurons])
    b = np.array([n.b.data for n in layer.neurons])
    return W, b


def _layer_grads(layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    """The ``.grad`` of a Layer's weights (nout × nin) and biases."""
    dW = np.array([[w.grad for w in n.w] for n in layer.neurons])
    db = np.array([n.b.grad for n in layer.neurons])
    return dW, db


def _set_biases(layer: Layer, b: np.ndarray) -> None:
    for n, bj in zip(layer.neurons, b):
        n.b.data = float(bj)


# ---------------------------------------------------------------------------------------
# §1 Activation functions

_X1 = np.concatenate([np.random.default_rng(1).uniform(-4.0, 4.0, 9), [0.0]])
_X1_NONZERO = _X1[_X1 != 0.0]


@derivation("§1.1", "ReLU'(x) = 1[x > 0] (0 at x = 0), relu op")
def _relu() -> Pair:
    return (_X1 > 0).astype(float), _derivative(lambda x: x.relu(), _X1)


@derivation("§1.1", "ReLU'(x) = 1[x > 0], graph max(0, x), x ≠ 0")
def _relu_as_max() -> Pair:
    return (_X1_NONZERO > 0).astype(float), _derivative(lambda x: Value(0.0).max(x), _X1_NONZERO)


@derivation("§1.2", "σ'(x) = σ(x)(1 − σ(x)), graph 1/(1 + e^−x)")
def _sigmoid_graph() -> Pair:
    s = _sigmoid(_X1)
    return s * (1 - s), _derivative(lambda x: 1.0 / (1.0 + (-x).exp()), _X1)


@derivation("§1.2", "σ'(x) = σ(x)(1 − σ(x)), sigmoid op")
def _sigmoid_op() -> Pair:
    s = _sigmoid(_X1)
    return s * (1 - s), _derivative(lambda x: x.sigmoid(), _X1)


def _tanh_graph(x: Value) -> Value:
    ex, emx = x.exp(), (-x).exp()
    return (ex - emx) / (ex + emx)


@derivation("§1.3", "tanh'(x) = 1 − tanh(x)², graph (e^x − e^−x)/(e^x + e^−x)")
def _tanh_square() -> Pair:
    return 1 - np.tanh(_X1) ** 2, _derivative(_tanh_graph, _X1)


@derivation("§1.3", "tanh'(x) = 4/(e^x + e^−x)², graph (e^x − e^−x)/(e^x + e^−x)")
def _tanh_four() -> Pair:
    return 4 / (np.exp(_X1) + np.exp(-_X1)) ** 2, _derivative(_tanh_graph, _X1)


@derivation("§1.3", "tanh'(x) = 1 − tanh(x)², tanh op")
def _tanh_op() -> Pair:
    return 1 - np.tanh(_X1) ** 2, _derivative(lambda x: x.tanh(), _X1)


# ---------------------------------------------------------------------------------------
# §2 One neuron, logistic regression: z = w·x + b, a = σ(z),
# J = −(y log a + (1 − y) log(1 − a)).

_Z2 = np.random.default_rng(2).uniform(-3.0, 3.0, 8)
_Y2 = np.array([0.0, 1.0, 0.0, 1.0, 0.25, 0.5, 0.9, 1.0])


@derivation("§2.1", "∂J/∂a = −(y/a − (1 − y)/(1 − a))")
def _bce_da() -> Pair:
    a = _sigmoid(_Z2)
    closed = -(_Y2 / a - (1 - _Y2) / (1 - a))
    auto = []
    for ai, yi in zip(a, _Y2):
        av = Value(float(ai), label="a")
        auto.append(_grads(binary_cross_entropy(av, float(yi)), [av])[0])
    return closed, np.array(auto)


@derivation("§2.1", "∂J/∂z = a − y, J = BCE(σ(z), y)")
def _bce_dz() -> Pair:
    auto = []
    for zi, yi in zip(_Z2, _Y2):
        z = Value(float(zi), label="z")
        auto.append(_grads(binary_cross_entropy(z.sigmoid(), float(yi)), [z])[0])
    return _sigmoid(_Z2) - _Y2, np.array(auto)


@derivation("§2.1", "∂J/∂z = σ(z) − y, binary_cross_entropy_with_logits")
def _bce_logits_dz() -> Pair:
    auto = []
    for zi, yi in zip(_Z2, _Y2):
        z = Value(float(zi), label="z")
        auto.append(_grads(binary_cross_entropy_with_logits(z, float(yi)), [z])[0])
    return _sigmoid(_Z2) - _Y2, np.array(auto)


def _one_neuron() -> tuple[np.ndarray, float, float, float, Neuron]:
    """A sigmoid Neuron(4) with a non-zero bias, after backward of J = BCE(a, y) at one x."""
    rng = np.random.default_rng(22)
    x, y = rng.normal(size=4), 1.0
    neuron = Neuron(4, "sigmoid", seed=22)
    neuron.b.data = 0.3
    neuron.zero_grad()
    binary_cross_entropy(neuron(x.tolist()), y).backward()
    w = np.array([wi.data for wi in neuron.w])
    a = float(_sigmoid(w @ x + neuron.b.data))
    return x, y, a, neuron.b.data, neuron


@derivation("§2.1", "∂J/∂w = (a − y)·x, sigmoid Neuron")
def _neuron_dw() -> Pair:
    x, y, a, _, neuron = _one_neuron()
    return (a - y) * x, np.array([wi.grad for wi in neuron.w])


@derivation("§2.1", "∂J/∂b = a − y, sigmoid Neuron")
def _neuron_db() -> Pair:
    _, y, a, _, neuron = _one_neuron()
    return np.array([a - y]), np.array([neuron.b.grad])


def _batch_data() -> tuple[np.ndarray, np.ndarray]:
    """n = 8 points with d = 3 features and k = 2 binary targets (columns of X, Y)."""
    rng = np.random.default_rng(23)
    X = rng.normal(size=(3, 8))  # d × n
    Y = (rng.uniform(size=(2, 8)) > 0.5).astype(float)  # k × n
    return X, Y


def _column_layer() -> tuple[Layer, np.ndarray, np.ndarray, np.ndarray]:
    """Column convention Z = W·X + b: a sigmoid Layer(d, k) (row j of W = neuron j),
    after backward of the mean over points of Σ_k BCE."""
    X, Y = _batch_data()
    d, n = X.shape
    layer = Layer(d, Y.shape[0], "sigmoid", seed=23)
    _set_biases(layer, np.array([0.2, -0.1]))
    layer.zero_grad()
    total = None
    for i in range(n):
        a = layer(X[:, i].tolist())
        for k, ak in enumerate(a):
            term = binary_cross_entropy(ak, float(Y[k, i]))
            total = term if total is None else total + term
    (total * (1.0 / n)).backward()
    W, b = _layer_matrix(layer)
    A = _sigmoid(W @ X + b[:, None])
    return layer, X, Y, A


@derivation("§2.2", "batch, columns (W k×d, X d×n): ∂J/∂W = (A − Y)·Xᵀ/n")
def _column_dW() -> Pair:
    layer, X, Y, A = _column_layer()
    return (A - Y) @ X.T / X.shape[1], _layer_grads(layer)[0]


@derivation("§2.2", "batch, columns: ∂J/∂b = Σ_i (a_i − y_i)/n")
def _column_db() -> Pair:
    layer, X, Y, A = _column_layer()
    return (A - Y).sum(axis=1) / X.shape[1], _layer_grads(layer)[1]


def _row_graph() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Value, list, list]:
    """Row convention Z = X·W + b with X (n×d), W (d×k): a graph of Values by hand."""
    Xc, Yc = _batch_data()
    X, Y = Xc.T, Yc.T  # n × d, n × k
    rng = np.random.default_rng(24)
    W, b = rng.normal(size=(3, 2)), np.array([0.2, -0.1])
    Wv, bv = _values(W, "W"), _values(b, "b")
    total = None
    for i in range(X.shape[0]):
        a = [z.sigmoid() for z in _affine([Value(float(v)) for v in X[i]], Wv, bv)]
        for k, ak in enumerate(a):
            term = binary_cross_entropy(ak, float(Y[i, k]))
            total = term if total is None else total + term
    J = total * (1.0 / X.shape[0])
    return X, Y, W, b, J, Wv, bv


@derivation("§2.3", "batch, rows (X n×d, W d×k): ∂J/∂W = Xᵀ·(A − Y)/n")
def _row_dW() -> Pair:
    X, Y, W, b, J, Wv, _ = _row_graph()
    A = _sigmoid(X @ W + b)
    auto = _grads(J, [w for row in Wv for w in row]).reshape(W.shape)
    return X.T @ (A - Y) / X.shape[0], auto


@derivation("§2.3", "batch, rows: ∂J/∂b = Σ_rows (A − Y)/n")
def _row_db() -> Pair:
    X, Y, W, b, J, _, bv = _row_graph()
    A = _sigmoid(X @ W + b)
    return (A - Y).sum(axis=0) / X.shape[0], _grads(J, bv)


@derivation("§2.4", "gradient descent: W ← W − α·(A − Y)·Xᵀ/n (one SGD step)")
def _gradient_step() -> Pair:
    layer, X, Y, A = _column_layer()
    W, _ = _layer_matrix(layer)
    alpha = 0.5
    SGD(layer.parameters(), lr=alpha).step()
    return W - alpha * (A - Y) @ X.T / X.shape[1], _layer_matrix(layer)[0]


# ---------------------------------------------------------------------------------------
# §3 Softmax and categorical cross-entropy

_Z3 = np.random.default_rng(3).normal(0.0, 2.0, 4)
_Y3_SOFT = np.array([0.1, 0.6, 0.0, 0.3])


def _softmax_jacobian() -> tuple[np.ndarray, np.ndarray]:
    """(closed diag(a) − a·aᵀ, the engine's Jacobian of nn.softmax: exp, max, sub, add, div)."""
    a = _softmax(_Z3)
    return np.diag(a) - np.outer(a, a), np.array(jacobian(softmax, _Z3.tolist()))


@derivation("§3.1", "softmax Jacobian, i = j: ∂a_i/∂z_i = a_i(1 − a_i)")
def _jacobian_diagonal() -> Pair:
    a = _softmax(_Z3)
    return a * (1 - a), np.diag(_softmax_jacobian()[1])


@derivation("§3.1", "softmax Jacobian, i ≠ j: ∂a_i/∂z_j = −a_i·a_j")
def _jacobian_off_diagonal() -> Pair:
    a = _softmax(_Z3)
    off = ~np.eye(len(a), dtype=bool)
    return (-np.outer(a, a))[off], _softmax_jacobian()[1][off]


def _dz(loss: Callable[[list[Value]], Value], z: np.ndarray) -> np.ndarray:
    zs = [Value(float(v), label=f"z{i}") for i, v in enumerate(z)]
    return _grads(loss(zs), zs)


@derivation("§3.2", "∂L/∂z = a − y, L = CCE(softmax(z)), soft y")
def _cce_soft() -> Pair:
    auto = _dz(lambda z: cross_entropy(softmax(z), _Y3_SOFT.tolist()), _Z3)
    return _softmax(_Z3) - _Y3_SOFT, auto


@derivation("§3.2", "∂L/∂z = −(e_ℓ − a), class index ℓ")
def _cce_index() -> Pair:
    ell = 2
    e = np.eye(len(_Z3))[ell]
    return -(e - _softmax(_Z3)), _dz(lambda z: cross_entropy(softmax(z), ell), _Z3)


@derivation("§3.2", "∂L/∂z = a − y, fused softmax_cross_entropy")
def _cce_fused() -> Pair:
    auto = _dz(lambda z: softmax_cross_entropy(z, _Y3_SOFT.tolist()), _Z3)
    return _softmax(_Z3) - _Y3_SOFT, auto


@derivation("§3.3", "worked example a = [0.7, 0.2, 0.1], y = e_0: ∂L/∂z = [−0.3, 0.2, 0.1]")
def _worked_example() -> Pair:
    z = np.log([0.7, 0.2, 0.1])  # logits whose softmax is a
    return np.array([-0.3, 0.2, 0.1]), _dz(lambda zs: cross_entropy(softmax(zs), [1, 0, 0]), z)


@derivation("§3.4", "2 classes: softmax(z)_A = σ(z_A − z_B), value and gradient")
def _two_classes() -> Pair:
    pairs = np.random.default_rng(31).normal(0.0, 2.0, (5, 2))
    closed, auto = [], []
    for za, zb in pairs:
        s = float(_sigmoid(za - zb))
        closed += [s, s * (1 - s), -s * (1 - s)]
        zs = [Value(float(za), label="zA"), Value(float(zb), label="zB")]
        a_A = softmax(zs)[0]
        auto += [a_A.data, *_grads(a_A, zs)]
    return np.array(closed), np.array(auto)


@derivation("§3.5", "softmax(z − max z) = e^z/Σe^z (values)")
def _softmax_shift() -> Pair:
    e = np.exp(_Z3)
    return e / e.sum(), np.array([a.data for a in softmax(_Z3.tolist())])


@derivation("§3.5", "softmax near z = 1000 (e^z overflows): Jacobian diag(a) − a·aᵀ")
def _softmax_shift_large() -> Pair:
    z = np.array([1000.0, 999.5, 998.0, 990.0])
    a = _softmax(z)
    return np.diag(a) - np.outer(a, a), np.array(jacobian(softmax, z.tolist()))


def _final_layer() -> tuple[Layer, np.ndarray, np.ndarray]:
    """A linear Layer(3, 4) z = W·x + b, softmax, CCE with class 1, after backward."""
    rng = np.random.default_rng(32)
    x, ell = rng.normal(size=3), 1
    layer = Layer(3, 4, "linear", seed=32)
    _set_biases(layer, rng.normal(size=4))
    layer.zero_grad()
    softmax_cross_entropy(layer(x.tolist()), ell).backward()
    W, b = _layer_matrix(layer)
    a_minus_y = _softmax(W @ x + b) - np.eye(4)[ell]
    return layer, x, a_minus_y


@derivation("§3.6", "final linear layer: ∂L/∂W = (a − y)·xᵀ")
def _final_dW() -> Pair:
    layer, x, a_minus_y = _final_layer()
    return np.outer(a_minus_y, x), _layer_grads(layer)[0]


@derivation("§3.6", "final linear layer: ∂L/∂b = a − y")
def _final_db() -> Pair:
    layer, _, a_minus_y = _final_layer()
    return a_minus_y, _layer_grads(layer)[1]


# ---------------------------------------------------------------------------------------
# §4.1 A multi-layer network, row convention:
# Z1 = X·W1 + b1, A1 = ReLU(Z1), Z2 = A1·W2 + b2, A2 = ReLU(Z2), Z3 = A2·W3 + b3,
# Ŷ = softmax(Z3), L = mean over rows of CCE(Y, Ŷ).

_ROWS_SIZES = (4, 10, 10, 3)  # d, hidden, hidden, classes
_ROWS_N = 6


@functools.cache
def _rows_weights() -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(2003)
    X = rng.normal(size=(_ROWS_N, _ROWS_SIZES[0]))
    labels = rng.integers(0, _ROWS_SIZES[-1], _ROWS_N)
    Ws = [
        rng.normal(0.0, np.sqrt(2.0 / m), size=(m, k))
        for m, k in zip(_ROWS_SIZES[:-1], _ROWS_SIZES[1:])
    ]
    bs = [rng.normal(0.0, 0.1, size=k) for k in _ROWS_SIZES[1:]]
    return X, labels, Ws, bs


@functools.cache
def _rows_recursion() -> dict[str, Pair]:
    """Every dZ, dW, db, dA of the matrix recursion and the engine's gradients, by name."""
    X, labels, (W1, W2, W3), (b1, b2, b3) = _rows_weights()
    n = X.shape[0]
    Y = np.eye(W3.shape[1])[labels]
    # Forward and backward in matrices (divide by n: the loss is a mean over the rows).
    Z1 = X @ W1 + b1
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ W2 + b2
    A2 = np.maximum(Z2, 0)
    Z3 = A2 @ W3 + b3
    dZ3 = (_softmax(Z3) - Y) / n
    dW3, db3, dA2 = A2.T @ dZ3, dZ3.sum(axis=0), dZ3 @ W3.T
    dZ2 = dA2 * (Z2 > 0)
    dW2, db2, dA1 = A1.T @ dZ2, dZ2.sum(axis=0), dZ2 @ W2.T
    dZ1 = dA1 * (Z1 > 0)
    dW1, db1 = X.T @ dZ1, dZ1.sum(axis=0)
    # The same network as a graph of scalar Values, row by row.
    W1v, W2v, W3v = _values(W1, "W1"), _values(W2, "W2"), _values(W3, "W3")
    b1v, b2v, b3v = _values(b1, "b1"), _values(b2, "b2"), _values(b3, "b3")
    nodes: dict[str, list[list[Value]]] = {"Z1": [], "A1": [], "Z2": [], "A2": [], "Z3": []}
    total = None
    for r in range(n):
        z1 = _affine([Value(float(v)) for v in X[r]], W1v, b1v)
        a1 = [z.relu() for z in z1]
        z2 = _affine(a1, W2v, b2v)
        a2 = [z.relu() for z in z2]
        z3 = _affine(a2, W3v, b3v)
        for name, row in zip(nodes, (z1, a1, z2, a2, z3)):
            nodes[name].append(row)
        term = cross_entropy(softmax(z3), int(labels[r]))
        total = term if total is None else total + term
    L = total * (1.0 / n)

    def auto(grid: list[list[Value]]) -> np.ndarray:
        return _grads(L, [v for row in grid for v in row]).reshape(len(grid), -1)

    return {
        "dZ3": (dZ3, auto(nodes["Z3"])),
        "dW3": (dW3, auto(W3v)),
        "db3": (db3, auto([b3v])[0]),
        "dA2": (dA2, auto(nodes["A2"])),
        "dZ2": (dZ2, auto(nodes["Z2"])),
        "dW2": (dW2, auto(W2v)),
        "db2": (db2, auto([b2v])[0]),
        "dA1": (dA1, auto(nodes["A1"])),
        "dZ1": (dZ1, auto(nodes["Z1"])),
        "dW1": (dW1, auto(W1v)),
        "db1": (db1, auto([b1v])[0]),
    }


def _register_rows(key: str, title: str) -> None:
    REGISTRY.append(Derivation("§4.1", f"MLP, rows: {title}", lambda: _rows_recursion()[key]))


for _key, _title in (
    ("dZ3", "dZ3 = (Ŷ − Y)/n"),
    ("dW3", "dW3 = A2ᵀ·dZ3"),
    ("db3", "db3 = Σ_rows dZ3"),
    ("dA2", "dA2 = dZ3·W3ᵀ"),
    ("dZ2", "dZ2 = dA2 ⊙ 1[Z2 > 0]"),
    ("dW2", "dW2 = A1ᵀ·dZ2"),
    ("db2", "db2 = Σ_rows dZ2"),
    ("dA1", "dA1 = dZ2·W2ᵀ"),
    ("dZ1", "dZ1 = dA1 ⊙ 1[Z1 > 0]"),
    ("dW1", "dW1 = Xᵀ·dZ1"),
    ("db1", "db1 = Σ_rows dZ1"),
):
    _register_rows(_key, _title)


@derivation("§4.1", "MLP, rows: nn.MLP(4, [10, 10, 3]) parameter gradients = the recursion")
def _rows_mlp() -> Pair:
    X, labels, Ws, bs = _rows_weights()
    model = MLP(X.shape[1], [W.shape[1] for W in Ws], "relu", seed=0)
    for layer, W, b in zip(model.layers, Ws, bs):
        for j, neuron in enumerate(layer.neurons):  # neuron j holds column j of W
            for i, w in enumerate(neuron.w):
                w.data = float(W[i, j])
            neuron.b.data = float(b[j])
    model.zero_grad()
    total = None
    for x, ell in zip(X, labels):
        term = softmax_cross_entropy(model(x.tolist()), int(ell))
        total = term if total is None else total + term
    (total * (1.0 / len(X))).backward()
    recursion = _rows_recursion()
    closed = []
    for k in range(1, len(Ws) + 1):
        dW, db = recursion[f"dW{k}"][0], recursion[f"db{k}"][0]
        for j in range(dW.shape[1]):  # parameters(): neuron by neuron, weights then bias
            closed += [*dW[:, j], db[j]]
    return np.array(closed), np.array([p.grad for p in model.parameters()])


# ---------------------------------------------------------------------------------------
# §4.2 The general layer recursion, column convention, one point:
# a_k = W_k h_{k−1} + b_k, h_k = g_k(a_k) with g_1 = tanh, g_2 = σ; ŷ = softmax(a_3), L = −log ŷ_ℓ.


def _columns_network() -> tuple[np.ndarray, int, list[Layer]]:
    """The point x, its class ℓ and three fresh Layers: tanh (4→5), sigmoid (5→3), linear (3→4)."""
    rng = np.random.default_rng(2004)
    x, ell = rng.normal(size=4), 2
    layers = [
        Layer(4, 5, "tanh", seed=41, name="L0"),
        Layer(5, 3, "sigmoid", seed=42, name="L1"),
        Layer(3, 4, "linear", seed=43, name="L2"),
    ]
    for layer in layers:
        _set_biases(layer, rng.normal(0.0, 0.5, size=layer.nout))
    return x, ell, layers


def _columns_forward(x: np.ndarray, params: Sequence[tuple[np.ndarray, np.ndarray]]) -> list:
    """NumPy forward of the column network: [a1, h1, a2, h2, ŷ] for params [(W_k, b_k)]."""
    (W1, b1), (W2, b2), (W3, b3) = params
    a1 = W1 @ x + b1
    h1 = np.tanh(a1)
    a2 = W2 @ h1 + b2
    h2 = _sigmoid(a2)
    return [a1, h1, a2, h2, _softmax(W3 @ h2 + b3)]


@functools.cache
def _columns_recursion() -> dict[str, Pair]:
    x, ell, layers = _columns_network()
    # The engine: h_k from nn's Layers; a_k is the parent of the tanh / σ node.
    xs = [Value(float(v), label=f"x{i}") for i, v in enumerate(x)]
    h1 = layers[0](xs)
    h2 = layers[1](h1)
    a3 = layers[2](h2)
    a1, a2 = [h.parents[0] for h in h1], [h.parents[0] for h in h2]
    L = cross_entropy(softmax(a3), ell)
    for layer in layers:
        layer.zero_grad()
    L.backward()
    # The recursion in NumPy.
    params = [_layer_matrix(layer) for layer in layers]
    (W1, _), (W2, _), (W3, _) = params
    z1, g1, _, g2, y_hat = _columns_forward(x, params)
    e = np.eye(len(y_hat))[ell]
    d_a3 = -(e - y_hat)
    d_h2 = W3.T @ d_a3
    d_a2 = d_h2 * g2 * (1 - g2)
    d_h1 = W2.T @ d_a2
    d_a1 = d_h1 * (1 - g1**2)
    d_x = W1.T @ d_a1
    # The full chain of Jacobians for W1: ∂L/∂ŷ · ∂ŷ/∂a3 · ∂a3/∂h2 · ∂h2/∂a2 · ∂a2/∂h1
    # · ∂h1/∂a1 · ∂a1/∂W1, with ∂a1_i/∂W1_pq = 1[i = p]·x_q.
    chain = -e / y_hat
    chain = chain @ (np.diag(y_hat) - np.outer(y_hat, y_hat))
    chain = chain @ W3 @ np.diag(g2 * (1 - g2)) @ W2 @ np.diag(1 - g1**2)
    d_a1_d_W1 = np.einsum("ip,q->ipq", np.eye(len(z1)), x)
    chain_dW1 = np.einsum("i,ipq->pq", chain, d_a1_d_W1)

    grads = [_layer_grads(layer) for layer in layers]
    auto_a = [_grads(L, a) for a in (a1, a2, a3)]
    auto_h = [_grads(L, h) for h in (xs, h1, h2)]
    closed_W = [np.outer(d, h) for d, h in ((d_a1, x), (d_a2, g1), (d_a3, g2))]
    return {
        "a3": (d_a3, auto_a[2]),
        "h": (np.concatenate([d_h2, d_h1, d_x]), np.concatenate(auto_h[::-1])),
        "a2": (d_a2, auto_a[1]),
        "a1": (d_a1, auto_a[0]),
        "W": (
            np.concatenate([W.ravel() for W in closed_W]),
            np.concatenate([dW.ravel() for dW, _ in grads]),
        ),
        "b": (np.concatenate([d_a1, d_a2, d_a3]), np.concatenate([db for _, db in grads])),
        "chain": (chain_dW1, grads[0][0]),
    }


def _register_columns(section: str, key: str, title: str) -> None:
    entry = Derivation(section, f"recursion, columns: {title}", lambda: _columns_recursion()[key])
    REGISTRY.append(entry)


for _section, _key, _title in (
    ("§4.2", "a3", "∇a_K L = −(e_ℓ − ŷ), K = 3"),
    ("§4.2", "h", "∇h_{k−1} L = W_kᵀ·∇a_k L (k = 3, 2, 1)"),
    ("§4.2", "a2", "∇a_k L = ∇h_k L ⊙ σ'(a_k), sigmoid layer"),
    ("§4.2", "a1", "∇a_k L = ∇h_k L ⊙ tanh'(a_k), tanh layer"),
    ("§4.2", "W", "∇W_k L = ∇a_k L·h_{k−1}ᵀ (k = 1, 2, 3)"),
    ("§4.2", "b", "∇b_k L = ∇a_k L (k = 1, 2, 3)"),
    ("§4.3", "chain", "∂L/∂W1 as the full chain of Jacobians"),
):
    _register_columns(_section, _key, _title)
