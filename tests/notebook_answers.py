"""Reference answers to the exercises of notebooks/src/06_check_your_derivation.py.

Kept here, out of the notebook, so that a student does not see them. Each
function replaces the blank of the same name in the notebook (by
``tests/test_notebook_exercises.py``) and uses only what the notebook defines:
``math``, ``sigma`` and the exercise's constants (``Y``, ``TARGET``, ``X``, ...).
"""

# ruff: noqa: F821 (the names are the notebook's)

import math


def d_softplus(x):
    return sigma(x)  # e^x / (1 + e^x) = σ(x)


def d_bce(z):
    return sigma(z) - Y  # a − y


def d_tanh_by_exp(x):
    return 4 / (math.exp(x) + math.exp(-x)) ** 2  # = 1 − tanh² x


def d_softmax_ce(z0, z1, z2):
    exps = [math.exp(z) for z in (z0, z1, z2)]
    total = sum(exps)
    return tuple(e / total - (1.0 if i == TARGET else 0.0) for i, e in enumerate(exps))


def d_network_loss(w):
    h0 = math.tanh(w * X[0] + W1_01 * X[1] + B1[0])
    h1 = math.tanh(W1_10 * X[0] + W1_11 * X[1] + B1[1])
    a = sigma(V[0] * h0 + V[1] * h1 + C)
    # ∂J/∂a · ∂a/∂(v·h + c) = a − 1; then · v0 · (1 − h0²) · x0
    return (a - 1) * V[0] * (1 - h0**2) * X[0]


ANSWERS = [d_softplus, d_bce, d_tanh_by_exp, d_softmax_ce, d_network_loss]
