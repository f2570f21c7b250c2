"""nn's softmax and losses against PyTorch and HIPS autograd, stability, and bad input."""

import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd_lite import Value, topological_order

LOGITS = [[0.3, -1.2, 2.5, 0.0], [1000.0, -1000.0, 0.0], [-1000.0, -999.0], [5.0]]


def _leaves(xs):
    return [Value(float(x), label=f"z{i}") for i, x in enumerate(xs)]


def _grad_of(loss_fn, xs):
    vs = _leaves(xs)
    out = loss_fn(vs)
    out.backward()
    return out.data, [v.grad for v in vs]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _t(torch, xs):
    return torch.tensor(xs, dtype=torch.float64, requires_grad=True)


# ------------------------------------------------------------------ softmax, log_softmax


@pytest.mark.parametrize("z", LOGITS)
def test_softmax_matches_torch(torch, z):
    out = nn.softmax(z)
    expected = torch.softmax(torch.tensor(z, dtype=torch.float64), dim=0).tolist()
    np.testing.assert_allclose([a.data for a in out], expected, rtol=1e-14, atol=1e-300)
    assert math.fsum(a.data for a in out) == pytest.approx(1.0, abs=1e-15)


def test_softmax_subtracts_the_max_with_the_engine_max_op():
    out = nn.softmax([1.0, 3.0, 2.0])
    ops = {v.op for v in topological_order(out[0])}
    assert {"max", "sub", "exp", "add", "div"} <= ops
    assert [a.data for a in nn.softmax([800.0, 799.0])] == pytest.approx(
        [1 / (1 + math.exp(-1)), 1 / (1 + math.e)], abs=1e-15
    )


@pytest.mark.parametrize("z", LOGITS)
def test_log_softmax_matches_torch_values_and_gradient(torch, z):
    weights = [0.5, -1.0, 2.0, 0.25][: len(z)]  # a weighted sum exercises the whole Jacobian
    value, grads = _grad_of(lambda vs: sum(w * o for w, o in zip(weights, nn.log_softmax(vs))), z)
    t = _t(torch, z)
    expected = (torch.log_softmax(t, dim=0) * torch.tensor(weights, dtype=torch.float64)).sum()
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-14, abs=1e-12)
    np.testing.assert_allclose(grads, t.grad.tolist(), rtol=1e-12, atol=1e-14)


def test_log_softmax_is_exact_for_huge_logits():
    out = [v.data for v in nn.log_softmax([1000.0, -1000.0, 0.0])]
    assert out == [0.0, -2000.0, -1000.0]
    out = [v.data for v in nn.log_softmax([-1000.0, -1000.0])]
    assert out == [-math.log(2), -math.log(2)]


# ------------------------------------------------------------------ cross-entropy


@pytest.mark.parametrize("z", LOGITS)
def test_softmax_cross_entropy_matches_torch_with_a_class_index(torch, z):
    for target in range(len(z)):
        value, grads = _grad_of(lambda vs, t=target: nn.softmax_cross_entropy(vs, t), z)
        logits = _t(torch, z)
        loss = torch.nn.functional.cross_entropy(logits[None], torch.tensor([target]))
        loss.backward()
        assert value == pytest.approx(loss.item(), rel=1e-14, abs=1e-14)
        np.testing.assert_allclose(grads, logits.grad.tolist(), rtol=1e-12, atol=1e-14)


def test_softmax_cross_entropy_matches_torch_with_soft_targets(torch):
    z, y = [0.3, -1.2, 2.5, 0.0], [0.1, 0.0, 0.7, 0.2]
    value, grads = _grad_of(lambda vs: nn.softmax_cross_entropy(vs, y), z)
    logits = _t(torch, z)
    loss = torch.nn.functional.cross_entropy(logits[None], torch.tensor([y], dtype=torch.float64))
    loss.backward()
    assert value == pytest.approx(loss.item(), rel=1e-14)
    np.testing.assert_allclose(grads, logits.grad.tolist(), rtol=1e-12, atol=1e-14)


def test_softmax_cross_entropy_is_stable_and_exact_at_1000():
    value, grads = _grad_of(lambda vs: nn.softmax_cross_entropy(vs, 1), [1000.0, -1000.0])
    assert value == 2000.0 and grads == [1.0, -1.0]
    value, grads = _grad_of(lambda vs: nn.softmax_cross_entropy(vs, 0), [1000.0, -1000.0])
    assert value == 0.0 and grads == [0.0, 0.0]
    value, grads = _grad_of(lambda vs: nn.softmax_cross_entropy(vs, [0.5, 0.5]), [-1000, 1000])
    assert value == 1000.0 and grads == [-0.5, 0.5]


def test_one_hot_list_equals_class_index():
    z = [0.3, -1.2, 2.5]
    assert nn.softmax_cross_entropy(z, [0, 0, 1]).data == nn.softmax_cross_entropy(z, 2).data
    assert nn.softmax_cross_entropy(z, np.int64(2)).data == nn.softmax_cross_entropy(z, 2).data
    assert nn.cross_entropy(nn.softmax(z), np.array([0.0, 0.0, 1.0])).data == pytest.approx(
        nn.softmax_cross_entropy(z, 2).data, abs=1e-15
    )


def test_cross_entropy_matches_torch_and_skips_zero_targets(torch):
    p, y = [0.2, 0.5, 0.3], [0.0, 0.75, 0.25]
    value, grads = _grad_of(lambda vs: nn.cross_entropy(vs, y), p)
    t = _t(torch, p)
    expected = -(torch.tensor(y, dtype=torch.float64) * torch.log(t)).sum()
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-14)
    np.testing.assert_allclose(grads, t.grad.tolist(), rtol=1e-14)
    # 0·log 0 = 0: a zero probability under a zero target is fine (no log is taken).
    assert nn.cross_entropy([0.0, 1.0], 1).data == 0.0
    assert nn.cross_entropy([0.0, 0.25, 0.75], [0, 0.5, 0.5]).data == pytest.approx(
        -0.5 * math.log(0.25) - 0.5 * math.log(0.75)
    )


def test_cross_entropy_through_softmax_equals_fused():
    z, y = [0.7, -0.4, 1.9], [0.2, 0.3, 0.5]
    v1, g1 = _grad_of(lambda vs: nn.cross_entropy(nn.softmax(vs), y), z)
    v2, g2 = _grad_of(lambda vs: nn.softmax_cross_entropy(vs, y), z)
    assert v1 == pytest.approx(v2, abs=1e-14)
    np.testing.assert_allclose(g1, g2, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-30, 30), min_size=2, max_size=6).flatmap(
        lambda z: st.tuples(
            st.just(z),
            st.lists(st.floats(0, 1), min_size=len(z), max_size=len(z)).filter(
                lambda w: sum(w) > 0.1
            ),
        )
    )
)
def test_softmax_cross_entropy_gradient_matches_hips_autograd(z_and_w):
    z, w = z_and_w
    y = [wi / sum(w) for wi in w]

    def reference(z):
        m = anp.max(z)
        return -anp.sum(anp.array(y) * (z - m - anp.log(anp.sum(anp.exp(z - m)))))

    value, grads = _grad_of(lambda vs: nn.softmax_cross_entropy(vs, y), z)
    assert value == pytest.approx(reference(np.array(z)), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grads, autograd.grad(reference)(np.array(z)), atol=1e-12)


# ------------------------------------------------------------------ binary losses, mse, hinge


@pytest.mark.parametrize(("p", "y"), [(0.3, 1.0), (0.3, 0.0), (0.9, 0.25), (1e-9, 1.0)])
def test_binary_cross_entropy_matches_torch(torch, p, y):
    value, (g,) = _grad_of(lambda vs: nn.binary_cross_entropy(vs[0], y), [p])
    t = _t(torch, [p])
    loss = torch.nn.functional.binary_cross_entropy(t, torch.tensor([y], dtype=torch.float64))
    loss.backward()
    assert value == pytest.approx(loss.item(), rel=1e-13)
    assert g == pytest.approx(t.grad.item(), rel=1e-9)


def test_binary_cross_entropy_of_lists_is_the_mean(torch):
    p, y = [0.2, 0.7, 0.5], [0.0, 1.0, 0.3]
    value, grads = _grad_of(lambda vs: nn.binary_cross_entropy(vs, y), p)
    t = _t(torch, p)
    loss = torch.nn.functional.binary_cross_entropy(t, torch.tensor(y, dtype=torch.float64))
    loss.backward()
    assert value == pytest.approx(loss.item(), rel=1e-14)
    np.testing.assert_allclose(grads, t.grad.tolist(), rtol=1e-12)


def test_binary_cross_entropy_clamps_the_log_like_torch(torch):
    assert nn.binary_cross_entropy(1.0, 0.0).data == pytest.approx(100.0)
    assert nn.binary_cross_entropy(0.0, 1.0).data == pytest.approx(100.0)
    expected = torch.nn.functional.binary_cross_entropy(
        torch.tensor([1.0], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64)
    )
    assert nn.binary_cross_entropy(1.0, 0.0).data == pytest.approx(expected.item())


@pytest.mark.parametrize("z", [-3.0, -0.5, 0.0, 0.7, 4.0, 40.0, -1000.0, 1000.0])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
def test_bce_with_logits_matches_torch(torch, z, y):
    value, (g,) = _grad_of(lambda vs: nn.binary_cross_entropy_with_logits(vs[0], y), [z])
    t = _t(torch, [z])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        t, torch.tensor([y], dtype=torch.float64)
    )
    loss.backward()
    assert math.isfinite(value)
    # Absolute 1e-16: the engine has no log1p (log(1 + 4e−18) is 0), and torch's gradient
    # σ(40) − 1 rounds to 0 where ours keeps −4.2e−18.
    assert value == pytest.approx(loss.item(), rel=1e-14, abs=1e-16)
    assert g == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-16)


def test_bce_with_logits_is_exact_at_1000():
    assert nn.binary_cross_entropy_with_logits(1000.0, 1.0).data == 0.0
    assert nn.binary_cross_entropy_with_logits(-1000.0, 1.0).data == 1000.0
    assert nn.binary_cross_entropy_with_logits(1000.0, 0.0).data == 1000.0


def test_bce_with_logits_gradient_matches_hips_autograd():
    def reference(z, y):
        return anp.logaddexp(0.0, z) - y * z

    for z in np.linspace(-6, 6, 7):
        _, (g,) = _grad_of(lambda vs: nn.binary_cross_entropy_with_logits(vs[0], 0.3), [z])
        assert g == pytest.approx(autograd.grad(reference)(z, 0.3), abs=1e-14)


def test_mse_matches_torch(torch):
    pred, target = [0.5, -1.0, 2.0], [0.0, -0.5, 3.0]
    value, grads = _grad_of(lambda vs: nn.mse(vs, target), pred)
    t = _t(torch, pred)
    loss = torch.nn.functional.mse_loss(t, torch.tensor(target, dtype=torch.float64))
    loss.backward()
    assert value == pytest.approx(loss.item(), rel=1e-15)
    np.testing.assert_allclose(grads, t.grad.tolist(), rtol=1e-15)
    assert nn.mse(Value(3.0), 1.0).data == 4.0


def test_hinge():
    for s, y, loss, g in [(0.3, 1, 0.7, -1.0), (0.3, -1, 1.3, 1.0), (2.0, 1, 0.0, 0.0)]:
        value, (grad,) = _grad_of(lambda vs, y=y: nn.hinge(vs[0], y), [s])
        assert value == pytest.approx(loss) and grad == g
    assert nn.hinge(0.3, 0).data == nn.hinge(0.3, -1).data  # label 0 reads as −1
    assert nn.hinge([0.3, 2.0], [1, 1]).data == pytest.approx(0.35)
    with pytest.raises(ValueError, match="label must be"):
        nn.hinge(0.3, 2)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "call",
    [
        lambda: nn.softmax([]),
        lambda: nn.log_softmax([]),
        lambda: nn.softmax_cross_entropy([], 0),
        lambda: nn.cross_entropy([], 0),
    ],
)
def test_empty_logits(call):
    with pytest.raises(ValueError, match="empty"):
        call()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (3, "out of range"),
        (-1, "out of range"),
        (1.5, "class index"),
        ("1", "class index"),
        ([0.5, 0.5], "2 probabilities but there are 3 classes"),
        ([1.2, -0.2, 0.0], "≥ 0"),
        ([1.0, 1.0, 0.0], "sum to 1"),
    ],
)
def test_bad_targets(target, message):
    for loss in (nn.softmax_cross_entropy, lambda z, t: nn.cross_entropy(nn.softmax(z), t)):
        with pytest.raises(ValueError, match=message):
            loss([0.1, 0.2, 0.3], target)


def test_bad_binary_targets_and_lengths():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.binary_cross_entropy(0.5, 2.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.binary_cross_entropy_with_logits(0.5, -1.0)
    with pytest.raises(ValueError, match="2 predictions"):
        nn.mse([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="one prediction"):
        nn.mse(1.0, [1.0, 2.0])
    with pytest.raises(TypeError):
        nn.softmax(3.0)
