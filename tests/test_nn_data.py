"""nn.data: shapes, dtypes, labels, reproducibility and geometry of the toy data sets."""

import numpy as np
import pytest

import nn

MAKERS = {
    "moons": (nn.data.make_moons, 2),
    "spirals": (nn.data.make_spirals, 3),
    "blobs": (nn.data.make_blobs, 3),
    "circles": (nn.data.make_circles, 2),
    "xor": (nn.data.make_xor, 2),
}


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("n", [7, 100])
def test_shapes_dtypes_and_labels(name, n):
    make, classes = MAKERS[name]
    X, y = make(n)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(y.tolist()) == set(range(classes))
    counts = np.bincount(y, minlength=classes)
    assert counts.max() - counts.min() <= 1  # balanced: n // classes each, remainder spread
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", MAKERS)
def test_reproducible_from_the_seed(name):
    make, _ = MAKERS[name]
    X1, y1 = make(50, seed=3)
    X2, y2 = make(50, seed=3)
    X3, y3 = make(50, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_datasets_by_name():
    assert set(nn.data.DATASETS) == {"moons", "spirals", "blobs", "circles", "xor"}
    assert set(nn.data.NOISE) == set(nn.data.DATASETS)
    X, y = nn.data.DATASETS["spirals"](30, seed=0)
    np.testing.assert_array_equal(X, nn.data.make_spirals(30, seed=0)[0])


def test_spirals_and_blobs_number_of_classes():
    X, y = nn.data.make_spirals(50, classes=5)
    assert set(y.tolist()) == set(range(5))
    X, y = nn.data.make_blobs(40, centers=4)
    assert set(y.tolist()) == set(range(4))
    X, y = nn.data.make_blobs(30, centers=[[0, 0], [5, 5]], std=0.0)
    assert set(map(tuple, X.tolist())) == {(0.0, 0.0), (5.0, 5.0)}
    assert np.all(X[y == 1] == 5.0)


def test_noise_free_moons_lie_on_their_arcs():
    X, y = nn.data.make_moons(40, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert np.all(upper[:, 1] >= 0) and np.all(lower[:, 1] <= 0.5 + 1e-12)


@pytest.mark.parametrize("turns", [1.5, 0.6, 2.0])
def test_noise_free_spiral_arms_turn_as_asked(turns):
    X, y = nn.data.make_spirals(60, classes=3, noise=0.0, turns=turns)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() == pytest.approx(0.2) and r.max() == pytest.approx(1.0)
    for c in range(3):
        arm = X[y == c][np.argsort(r[y == c])]
        angle = np.unwrap(np.arctan2(arm[:, 1], arm[:, 0]))
        assert angle[-1] - angle[0] == pytest.approx(2 * np.pi * turns)
        start = 2 * np.pi * c / 3  # the arms start a third of a turn apart
        assert [np.cos(angle[0]), np.sin(angle[0])] == pytest.approx([np.cos(start), np.sin(start)])
        assert np.all(np.diff(angle) > 0)  # winding one way, no fold


def test_default_spirals_are_spirals_not_blobs():
    """Each arm turns 1.5 times, points about evenly spaced along it, arms never touching."""
    X, y = nn.data.make_spirals(300, noise=0.0)
    for c in range(3):
        arm = X[y == c][np.argsort(np.hypot(*X[y == c].T))]
        angle = np.unwrap(np.arctan2(arm[:, 1], arm[:, 0]))
        assert (angle[-1] - angle[0]) / (2 * np.pi) == pytest.approx(1.5)
        steps = np.hypot(*np.diff(arm, axis=0).T)
        assert steps.max() < 1.3 * steps.min()  # even spacing along the arm
    gaps = np.hypot(*(X[:, None, :] - X[None, :, :]).transpose(2, 0, 1))
    other = y[:, None] != y[None, :]
    # Neighbouring arms are 0.8 / 4.5 ≈ 0.18 apart; a point's own arm is much closer.
    assert gaps[other].min() > 0.15
    assert np.max(np.min(np.where(other | np.eye(len(X), dtype=bool), np.inf, gaps), axis=1)) < 0.1


def test_spirals_reject_bad_turns():
    for turns in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="turns"):
            nn.data.make_spirals(30, turns=turns)


def test_blob_noise_has_the_requested_std():
    X, y = nn.data.make_blobs(3000, centers=3, std=0.5)
    centered = np.concatenate([X[y == c] - X[y == c].mean(axis=0) for c in range(3)])
    assert centered.std() == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize(
    "call",
    [
        lambda: nn.data.make_moons(1),
        lambda: nn.data.make_moons(10, noise=-1),
        lambda: nn.data.make_spirals(10, classes=0),
        lambda: nn.data.make_spirals(2, classes=3),
        lambda: nn.data.make_blobs(10, centers=0),
        lambda: nn.data.make_blobs(10, centers=[1, 2]),
        lambda: nn.data.make_blobs(10, std=float("inf")),
        lambda: nn.data.make_moons(10.5),
    ],
)
def test_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_circles_lie_on_their_radii():
    X, y = nn.data.make_circles(200, noise=0.0, factor=0.4)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, rtol=1e-12)
    np.testing.assert_allclose(radius[y == 1], 0.4, rtol=1e-12)
    with pytest.raises(ValueError, match="factor must be in"):
        nn.data.make_circles(10, factor=1.0)


def test_xor_label_is_the_sign_of_the_product():
    X, y = nn.data.make_xor(400, noise=0.0, margin=0.1)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert np.abs(X).min() >= 0.1 and np.abs(X).max() <= 1.0
    # all four quadrants are used
    quadrants = {(bool(a > 0), bool(b > 0)) for a, b in X}
    assert len(quadrants) == 4
    with pytest.raises(ValueError, match="margin must be in"):
        nn.data.make_xor(10, margin=-0.5)
