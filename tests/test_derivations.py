"""The MATH.md derivations registry: every closed form equals the engine's gradient.

Besides the registry itself, independent checks: a wrong formula is caught,
the §4 closed forms agree with HIPS autograd and with central differences,
and the inputs are non-degenerate (ReLU masks really mask).
"""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from nn import derivations
from nn.derivations import REGISTRY, Derivation, check, run_all


@pytest.mark.parametrize("entry", REGISTRY, ids=[f"{e.section} {e.title}" for e in REGISTRY])
def test_closed_form_equals_automatic(entry):
    closed, automatic = entry.compute()
    assert closed.shape == automatic.shape
    assert np.any(closed != 0), "a closed form of all zeros would check nothing"
    np.testing.assert_allclose(automatic, closed, rtol=0, atol=1e-10)


def test_registry_covers_every_section_with_unique_titles():
    sections = [e.section for e in REGISTRY]
    assert set(sections) == {"§1", "§2", "§3", "§4"}
    assert sections == sorted(sections)  # grouped, in MATH.md order
    titles = [e.title for e in REGISTRY]
    assert len(set(titles)) == len(titles)
    assert all(len(t) <= 80 for t in titles)  # fits a table row
    must_have = [
        "ReLU'",
        "σ'(x) = σ(x)(1 − σ(x))",
        "tanh'(x) = 4/(e^x + e^−x)²",
        "batch, columns",
        "batch, rows",
        "i = j",
        "i ≠ j",
        "worked example",
        "2 classes",
        "final linear layer: ∂L/∂W",
        "final linear layer: ∂L/∂b",
        "seed 003, rows: dW1",
        "seed 003, rows: dA1",
        "seed 003, rows: dZ1",
        "seed 003, rows: db1",
        "seed 004, columns",
        "tanh layer",
        "sigmoid layer",
    ]
    for phrase in must_have:
        assert any(phrase in t for t in titles), phrase


def test_run_all_rows():
    rows = run_all()
    assert len(rows) == len(REGISTRY)
    assert all(row.ok for row in rows)
    assert all(0.0 <= row.max_abs_error <= 1e-10 for row in rows)
    assert [(r.section, r.title) for r in rows] == [(e.section, e.title) for e in REGISTRY]
    assert run_all() == rows  # deterministic, to the last bit


def test_a_wrong_formula_is_caught():
    sigmoid_op = next(e for e in REGISTRY if e.title.endswith("sigmoid op"))

    def wrong():  # σ' = σ: a classic slip
        _, automatic = sigmoid_op.compute()
        return 1 / (1 + np.exp(-derivations._X1)), automatic

    row = check(Derivation("§1", "wrong", wrong))
    assert not row.ok and row.max_abs_error > 0.1
    shape = check(Derivation("§1", "shape", lambda: (np.zeros(3), np.zeros(4))))
    assert not shape.ok and shape.max_abs_error == float("inf")


def test_worked_example_is_the_notes_numbers():
    entry = next(e for e in REGISTRY if "worked example" in e.title)
    closed, automatic = entry.compute()
    assert closed.tolist() == [-0.3, 0.2, 0.1]
    np.testing.assert_allclose(automatic, [-0.3, 0.2, 0.1], atol=1e-15)


def test_seed003_recursion_agrees_with_hips_autograd():
    X, labels, Ws, bs = derivations._seed003_weights()
    Y = np.eye(Ws[-1].shape[1])[labels]

    def loss(params):
        W1, b1, W2, b2, W3, b3 = params
        A1 = anp.maximum(X @ W1 + b1, 0)
        A2 = anp.maximum(A1 @ W2 + b2, 0)
        Z3 = A2 @ W3 + b3
        Z3 = Z3 - anp.max(Z3, axis=1, keepdims=True)
        log_probs = Z3 - anp.log(anp.sum(anp.exp(Z3), axis=1, keepdims=True))
        return -anp.sum(Y * log_probs) / X.shape[0]

    params = [Ws[0], bs[0], Ws[1], bs[1], Ws[2], bs[2]]
    grads = autograd.grad(loss)(params)
    recursion = derivations._seed003()
    for name, g in zip(["dW1", "db1", "dW2", "db2", "dW3", "db3"], grads):
        np.testing.assert_allclose(recursion[name][0], g, atol=1e-14, err_msg=name)


def test_seed003_relu_masks_are_not_trivial():
    X, _, (W1, W2, _), (b1, b2, _) = derivations._seed003_weights()
    Z1 = X @ W1 + b1
    Z2 = np.maximum(Z1, 0) @ W2 + b2
    for Z in (Z1, Z2):
        assert 0.2 < np.mean(Z > 0) < 0.8
        assert np.min(np.abs(Z)) > 1e-6  # no kink inside the central-difference step


def test_seed004_closed_forms_agree_with_central_differences():
    x, ell, layers = derivations._seed004_network()
    params = [derivations._layer_matrix(layer) for layer in layers]

    def loss(params):
        return -np.log(derivations._seed004_forward(x, params)[-1][ell])

    eps = 1e-6
    numerical = []
    for W, b in params:
        for array in (W, b):
            grad = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + eps
                plus = loss(params)
                array[index] = saved - eps
                minus = loss(params)
                array[index] = saved
                grad[index] = (plus - minus) / (2 * eps)
            numerical.append(grad)
    closed = derivations._seed004()
    np.testing.assert_allclose(closed["chain"][0], numerical[0], atol=1e-8)
    np.testing.assert_allclose(
        closed["W"][0], np.concatenate([numerical[i].ravel() for i in (0, 2, 4)]), atol=1e-8
    )
    np.testing.assert_allclose(
        closed["b"][0], np.concatenate([numerical[i] for i in (1, 3, 5)]), atol=1e-8
    )


def test_run_all_is_fast():
    import time

    derivations._seed003.cache_clear()
    derivations._seed004.cache_clear()
    start = time.perf_counter()
    run_all()
    assert time.perf_counter() - start < 5.0
