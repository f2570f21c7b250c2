"""nn: neural networks built from scalar autograd_lite Values.

>>> import nn
>>> model = nn.MLP(2, [16, 16, 2], seed=0)           # relu, relu, linear
>>> len(model.parameters())
354
>>> loss = nn.softmax_cross_entropy(model([0.5, -1.0]), 1)
>>> loss.backward()                                   # ∂L/∂z = softmax(z) − y

Modules: ``module`` (Module, Neuron, Layer, MLP), ``losses``, ``optim`` (SGD,
Adam, AdamW), ``data`` (moons, spirals, blobs), ``train`` (fit, evaluate, predict),
``metrics`` (accuracy), ``serialize`` (save, load) and ``derivations`` (the checks
of docs/derivations.md: ``nn.derivations.run_all()``).

``data`` and ``derivations`` compute with NumPy: they are imported the first
time they are used (``nn.data`` or ``from nn import data``), so ``import nn``
does not load NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import metrics, optim, train
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    log_softmax,
    mse,
    softmax,
    softmax_cross_entropy,
)
from .module import ACTIVATIONS, MLP, Layer, Module, Neuron
from .serialize import load, save

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "Layer",
    "Module",
    "Neuron",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "data",
    "derivations",
    "hinge",
    "load",
    "log_softmax",
    "metrics",
    "mse",
    "optim",
    "save",
    "softmax",
    "softmax_cross_entropy",
    "train",
]

if TYPE_CHECKING:
    from . import data, derivations

_LAZY_SUBMODULES = ("data", "derivations")


def __getattr__(name: str) -> Any:
    """Import ``nn.data`` and ``nn.derivations`` on first use (PEP 562)."""
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
