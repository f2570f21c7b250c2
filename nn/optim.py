"""Optimizers: ``SGD``, ``Adam`` and ``AdamW``, with the update rules of ``torch.optim``.

An optimizer holds a list of parameters (Values). ``step()`` updates each
``p.data`` from ``p.grad`` (plain float arithmetic, no graph), and
``zero_grad()`` sets every ``p.grad`` to 0 before the next ``backward``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from autograd_lite import Value


class Optimizer:
    """Base class: the parameter list, its validation and ``zero_grad``."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(
                    f"{type(self).__name__}: parameters must be Values, got {type(p).__name__}"
                )
        self.lr = _non_negative("lr", lr)

    def zero_grad(self) -> None:
        """p.grad = 0 for every parameter."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError


def _non_negative(name: str, x: float) -> float:
    x = float(x)
    if not (math.isfinite(x) and x >= 0.0):
        raise ValueError(f"{name} must be a finite number ≥ 0, got {x!r}")
    return x


class SGD(Optimizer):
    """Stochastic gradient descent with momentum and L2 weight decay (torch.optim.SGD).

    For each parameter θ with gradient g:
        g ← g + λθ                       (weight_decay λ)
        v ← g at the first step, then v ← μv + g    (momentum μ; skipped if μ = 0)
        θ ← θ − α·v                      (learning rate α; v = g without momentum)
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _non_negative("momentum", momentum)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.velocity: list[float] | None = None

    def step(self) -> None:
        """One update of every parameter from its current ``.grad``."""
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if mu == 0.0:
            for p in self.params:
                g = p.grad + wd * p.data if wd else p.grad
                p.data -= lr * g
            return
        first = self.velocity is None
        if first:
            self.velocity = [0.0] * len(self.params)
        velocity = self.velocity
        for i, p in enumerate(self.params):
            g = p.grad + wd * p.data if wd else p.grad
            v = g if first else mu * velocity[i] + g
            velocity[i] = v
            p.data -= lr * v


class Adam(Optimizer):
    """Adam (torch.optim.Adam, L2 weight decay added to the gradient, not AdamW).

    For each parameter θ with gradient g, at step t = 1, 2, ...:
        g ← g + λθ
        m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
        θ ← θ − (α / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)

    ``weight_decay=None`` means the class's default: 0 for Adam, 0.01 for AdamW (as torch).
    """

    DEFAULT_WEIGHT_DECAY = 0.0

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float | None = None,
    ) -> None:
        super().__init__(params, lr)
        beta1, beta2 = betas
        for name, b in (("betas[0]", beta1), ("betas[1]", beta2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Adam: {name} must be in [0, 1), got {b!r}")
        self.betas = (float(beta1), float(beta2))
        self.eps = _non_negative("eps", eps)
        if weight_decay is None:
            weight_decay = self.DEFAULT_WEIGHT_DECAY
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        """One update of every parameter from its current ``.grad``."""
        self._update(decoupled=False)

    def _update(self, *, decoupled: bool) -> None:
        """Adam's step; the weight decay is added to g, or (``decoupled``) shrinks θ first."""
        self.t += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1.0 - beta1**self.t)
        root_c2 = math.sqrt(1.0 - beta2**self.t)
        eps, wd = self.eps, self.weight_decay
        coupled = wd if not decoupled else 0.0
        shrink = 1.0 - self.lr * wd if decoupled else 1.0
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad + coupled * p.data if coupled else p.grad
            if shrink != 1.0:
                p.data *= shrink
            m[i] = mi = beta1 * m[i] + (1.0 - beta1) * g
            v[i] = vi = beta2 * v[i] + (1.0 - beta2) * g * g
            p.data -= step_size * mi / (math.sqrt(vi) / root_c2 + eps)


class AdamW(Adam):
    """AdamW: Adam with *decoupled* weight decay (Loshchilov & Hutter; torch.optim.AdamW).

    The decay shrinks the parameter directly instead of entering the gradient,
    so it is not rescaled by Adam's per-parameter step. At step t = 1, 2, ...:
        θ ← θ · (1 − αλ)                 (weight_decay λ, default 0.01 as torch)
        m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
        θ ← θ − (α / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
    With λ = 0 it is exactly Adam. Takes Adam's arguments.
    """

    DEFAULT_WEIGHT_DECAY = 1e-2

    def step(self) -> None:
        """One update of every parameter from its current ``.grad``."""
        self._update(decoupled=True)
