"""The NumPy floor: a hand-written forward and backward pass of the benchmark's MLPs.

What ``compile`` is measured against (issue 18): the same networks, the same
losses and the same SGD update, written the way one writes them by hand in NumPy
(derivations.md §4.1): ``Z = H·Wᵀ + b``, ``H = relu(Z)``, the loss on the last ``Z``,
then ``dZ``, ``dW = dZᵀ·H``, ``db = Σrows dZ``, ``dH = dZ·W``, ``dZ ⊙ 1[Z > 0]``.
About 25–35 NumPy calls a step, whatever the width. No checks, no NaN rules: a
floor, not a replacement.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Floor:
    """An MLP (relu between layers) with a hinge + L2 or a softmax-CE loss, as arrays.

    ``layers``: a list of (W, b), W of shape (out, in) as nn.Neuron's weights;
    ``loss``: ``"hinge"`` (one output, targets ±1, plus ``l2``·Σp²) or
    ``"softmax_cross_entropy"`` (one-hot targets).
    """

    def __init__(self, layers: list[tuple[Any, Any]], loss: str, l2: float, dtype: Any) -> None:
        self.params = [np.array(a, dtype=dtype) for pair in layers for a in pair]
        self.loss, self.l2, self.dtype = loss, l2, dtype

    def step(self, X: Any, Y: Any, lr: float) -> float:
        """One SGD step on (X, Y); returns the mean loss before the update."""
        ps = self.params
        n = X.shape[0]
        hs, zs = [X], []
        for k in range(0, len(ps), 2):
            z = hs[-1] @ ps[k].T + ps[k + 1]
            zs.append(z)
            if k + 2 < len(ps):
                hs.append(np.maximum(z, 0.0))
        z = zs[-1]
        if self.loss == "hinge":
            margin = 1.0 - Y * z
            on = margin > 0
            loss = float(np.maximum(margin, 0.0).mean())
            dz = np.where(on, -Y, 0.0) * (1.0 / n)
            if self.l2:
                loss += self.l2 * sum(float(np.vdot(p, p)) for p in ps)
        else:
            m = z.max(axis=1, keepdims=True)
            e = np.exp(z - m)
            s = e.sum(axis=1, keepdims=True)
            lse = np.log(s) + m
            loss = float((lse - (z * Y).sum(axis=1, keepdims=True)).mean())
            dz = (e / s - Y) * (1.0 / n)
        grads = [None] * len(ps)
        for k in range(len(ps) - 2, -1, -2):
            grads[k] = dz.T @ hs[k // 2]
            grads[k + 1] = dz.sum(axis=0)
            if k:
                dh = dz @ ps[k]
                dz = dh * (zs[k // 2 - 1] > 0)
        for p, g in zip(ps, grads):
            if self.l2:
                g = g + (2.0 * self.l2) * p
            p -= lr * g
        return loss
