"""Toy 2-D classification data sets: moons, spirals, blobs, circles and xor (NumPy, no sklearn);
``load_digits`` (scikit-learn's 8×8 digits, the ``data`` extra) and ``train_test_split``.

Each function takes ``n``, the total number of points, and returns
``(X, y)``: ``X`` a float64 array of shape (n, 2), ``y`` an int64 array of
shape (n,) with labels 0..classes−1. Classes get n // classes points each,
the first n % classes classes one more. Points are shuffled, Gaussian noise
of standard deviation ``noise`` (or ``std``) is added to each coordinate, and
the same ``seed`` gives the same data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def _check_n(n: int, classes: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < classes:
        raise ValueError(f"n must be an integer ≥ the number of classes ({classes}), got {n!r}")
    return int(n)


def _check_noise(name: str, noise: float) -> float:
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0.0):
        raise ValueError(f"{name} must be a finite number ≥ 0, got {noise!r}")
    return noise


def _counts(n: int, classes: int) -> list[int]:
    return [n // classes + (1 if c < n % classes else 0) for c in range(classes)]


def _finish(
    parts: list[np.ndarray], noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Stack the classes' points, add noise and shuffle."""
    X = np.concatenate(parts).astype(np.float64)
    y = np.concatenate([np.full(len(p), c, dtype=np.int64) for c, p in enumerate(parts)])
    X += rng.normal(0.0, noise, size=X.shape)
    order = rng.permutation(len(X))
    return X[order], y[order]


def make_moons(n: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: class 0 is the upper arc (cos t, sin t),
    class 1 the lower one (1 − cos t, 0.5 − sin t), t ∈ [0, π]."""
    n = _check_n(n, 2)
    noise = _check_noise("noise", noise)
    rng = np.random.default_rng(seed)
    n0, n1 = _counts(n, 2)
    t0, t1 = np.linspace(0.0, math.pi, n0), np.linspace(0.0, math.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    return _finish([upper, lower], noise, rng)


def make_spirals(
    n: int, classes: int = 3, noise: float = 0.03, seed: int = 0, *, turns: float = 1.5
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms around the origin, each turning ``turns`` times.

    Arm c is the Archimedean spiral r = r₀ + (1 − r₀)·t, θ = 2πc/classes + 2π·turns·t
    for t ∈ [0, 1], with r₀ = 0.2: it winds out from radius 0.2 to 1, and
    neighbouring arms are (1 − r₀)/(turns·classes) apart along a radius (0.18 for
    3 arms of 1.5 turns, so the default noise of 0.03 keeps them apart). Points
    are spaced about evenly along each arm (r² grows linearly with the point's
    index), so the outer turns are as dense as the inner ones.
    """
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 1:
        raise ValueError(f"classes must be a positive integer, got {classes!r}")
    turns = float(turns)
    if not (math.isfinite(turns) and turns > 0.0):
        raise ValueError(f"turns must be a positive number, got {turns!r}")
    n = _check_n(n, int(classes))
    noise = _check_noise("noise", noise)
    rng = np.random.default_rng(seed)
    r0 = SPIRAL_INNER_RADIUS
    parts = []
    for c, count in enumerate(_counts(n, int(classes))):
        # Arc length along the arm grows about as r², so equal steps in r² are equal steps along it.
        r = np.sqrt(np.linspace(r0 * r0, 1.0, count))
        t = (r - r0) / (1.0 - r0)
        theta = 2.0 * math.pi * (c / classes + turns * t)
        parts.append(np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1))
    return _finish(parts, noise, rng)


SPIRAL_INNER_RADIUS = 0.2


def make_blobs(
    n: int, centers: int | Sequence[Sequence[float]] = 3, std: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs of standard deviation ``std`` around ``centers``.

    ``centers`` is a number of blobs, placed evenly on a circle of radius 2
    (blob c at angle 2πc/centers), or a list of (x, y) centers.
    """
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        k = int(centers)
        if k < 1:
            raise ValueError(f"centers must be ≥ 1, got {k}")
        angles = 2.0 * math.pi * np.arange(k) / k
        points = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    else:
        points = np.asarray(centers, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
            raise ValueError(f"centers must be an int or a list of (x, y) points, got {centers!r}")
    n = _check_n(n, len(points))
    std = _check_noise("std", std)
    rng = np.random.default_rng(seed)
    parts = [
        np.repeat(c[None, :], count, axis=0) for c, count in zip(points, _counts(n, len(points)))
    ]
    return _finish(parts, std, rng)


def make_circles(
    n: int, noise: float = 0.05, seed: int = 0, *, factor: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 on the unit circle, class 1 on radius ``factor``.

    Each class's points are evenly spaced in angle, θ_k = 2πk/count; no straight
    line separates the classes, a ring does (r² = x² + y² is the feature to find).
    """
    factor = float(factor)
    if not (math.isfinite(factor) and 0.0 < factor < 1.0):
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    n = _check_n(n, 2)
    noise = _check_noise("noise", noise)
    rng = np.random.default_rng(seed)
    parts = []
    for radius, count in zip((1.0, factor), _counts(n, 2)):
        theta = 2.0 * math.pi * np.arange(count) / count
        parts.append(radius * np.stack([np.cos(theta), np.sin(theta)], axis=1))
    return _finish(parts, noise, rng)


def make_xor(
    n: int, noise: float = 0.05, seed: int = 0, *, margin: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """XOR of the signs: points uniform in the four quadrants of [−1, 1]², class 1 where x·y < 0.

    Class 0 fills the first and third quadrants, class 1 the second and fourth,
    each point at least ``margin`` from both axes (before the noise), so the
    label is the sign of x·y: no straight line separates the classes.
    """
    margin = float(margin)
    if not (math.isfinite(margin) and 0.0 <= margin < 1.0):
        raise ValueError(f"margin must be in [0, 1), got {margin!r}")
    n = _check_n(n, 2)
    noise = _check_noise("noise", noise)
    rng = np.random.default_rng(seed)
    parts = []
    for c, count in enumerate(_counts(n, 2)):
        size = rng.uniform(margin, 1.0, size=(count, 2))  # |x|, |y|
        sign_x = rng.choice([-1.0, 1.0], size=count)
        sign_y = sign_x if c == 0 else -sign_x  # class 0: same signs; class 1: opposite
        parts.append(size * np.stack([sign_x, sign_y], axis=1))
    return _finish(parts, noise, rng)


# For command lines: ``X, y = DATASETS["spirals"](n, seed=0)``; classes = y.max() + 1.
DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "moons": make_moons,
    "spirals": make_spirals,
    "blobs": make_blobs,
    "circles": make_circles,
    "xor": make_xor,
}
# The keyword of each maker's noise (blobs call it ``std``), for ``DATASETS[name](n, **{kw: x})``.
NOISE = {name: "std" if name == "blobs" else "noise" for name in DATASETS}


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 handwritten digits: 1,797 images of the digits 0–9.

    Returns ``(X, y)``: ``X`` float64 of shape (1797, 64), each row an image's
    pixels read row by row, scaled from 0..16 to [0, 1]; ``y`` int64 labels
    0..9. The data ship with scikit-learn (no download); install it with the
    ``data`` extra: ``pip install 'autograd-lite[data]'``.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError(
            "load_digits needs scikit-learn, in the 'data' extra: pip install 'autograd-lite[data]'"
        ) from None
    digits = sklearn_digits()
    return digits.data.astype(np.float64) / 16.0, digits.target.astype(np.int64)


def held_out_count(n: int, test_fraction: float) -> int:
    """How many of ``n`` rows :func:`train_test_split` holds out: ⌈test_fraction · n⌉."""
    return math.ceil(float(test_fraction) * n)


def check_finite(X: Any, name: str = "X") -> None:
    """Raise ValueError naming the first entry of ``X`` (rows of numbers) that is NaN or ±inf.

    A NaN is a missing value: training on it gives NaN losses, which would
    otherwise read as a diverging run.
    """
    for i, row in enumerate(X):
        for j, v in enumerate(row):
            x = float(v)
            if not math.isfinite(x):
                what = "a NaN" if x != x else f"{x}"
                raise ValueError(
                    f"{name} has {what} at row {i}, column {j}: the data must be finite numbers "
                    "(a NaN is a missing value: drop or fill it)"
                )


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out a seeded ⌈test_fraction · n⌉ rows: ``(X_train, X_test, y_train, y_test)``.

    The rows are shuffled by ``np.random.default_rng(seed)``, so the same seed
    gives the same split; ``test_fraction=0`` gives an empty test set.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
    fraction = float(test_fraction)
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction!r}")
    n_test = held_out_count(len(X), fraction)
    if len(X) - n_test < 1:
        raise ValueError(f"test_fraction {fraction} leaves no rows to train on ({len(X)} rows)")
    order = np.random.default_rng(seed).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
