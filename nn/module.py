"""Modules: ``Neuron``, ``Layer`` and ``MLP``, built from scalar ``Value``s.

A neuron computes ``a = g(w·x + b)``: one weight per input, a bias and an
activation ``g`` (``"relu"``, ``"tanh"``, ``"sigmoid"`` or ``"linear"``). A
layer is a list of neurons reading the same inputs; an MLP is a list of layers.
The API follows micrograd's ``nn`` so its demo code runs unchanged:

- ``model(x)`` takes a list of floats or Values and returns a Value when the
  last layer has one neuron, else a list of Values;
- ``parameters()`` is ordered layer by layer, neuron by neuron, each neuron's
  weights then its bias (``MLP(2, [16, 16, 1])`` has 337);
- ``Neuron`` and ``Layer`` also accept micrograd's ``nonlin=True/False``.

Initialization is seeded and scaled by fan-in: weights ~ N(0, s²/nin) with
s² = 2 for ReLU (He) and s² = 1 otherwise (LeCun); biases start at 0.
``seed`` is an int (reproducible), a ``random.Random`` to draw from, or
``None`` to draw from the global ``random`` module (so ``random.seed(1337)``
reproduces a model, as in micrograd).

Parameters carry 0-based labels for drawn graphs: ``L0.N3.w1`` is weight 1 of
neuron 3 of layer 0, ``L0.N3.b`` its bias. A standalone ``Neuron`` is named
``N0`` (``N0.w0``, ..., ``N0.b``) and a standalone ``Layer`` ``L0``; pass
``name=`` to choose another prefix.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from typing import Any

from autograd_lite import Value

ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid", "linear")

# Variance scale of the initial weights, times 1/fan-in: He for ReLU, LeCun otherwise.
_INIT_GAIN = {"relu": 2.0, "tanh": 1.0, "sigmoid": 1.0, "linear": 1.0}

Seed = int | random.Random | None


def check_activation(activation: Any, nonlin: bool | None = None) -> str:
    """Return the activation name, resolving micrograd's ``nonlin`` flag.

    ``nonlin=True`` means ``"relu"`` and ``nonlin=False`` ``"linear"``; a bool
    passed as the activation (micrograd's positional ``Neuron(3, False)``) is
    read the same way. Raises ValueError for an unknown name, listing the choices.
    """
    if isinstance(activation, bool):
        activation, nonlin = "relu", activation
    if nonlin is not None:
        implied = "relu" if nonlin else "linear"
        if activation not in ("relu", implied):  # "relu" is the default: nonlin overrides it
            raise ValueError(
                f"activation={activation!r} contradicts nonlin={nonlin!r} "
                f"(nonlin=True means 'relu', nonlin=False means 'linear')"
            )
        activation = implied
    if activation not in ACTIVATIONS:
        choices = ", ".join(repr(a) for a in ACTIVATIONS)
        raise ValueError(f"unknown activation {activation!r}; choose one of {choices}")
    return activation


def _check_size(what: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    return n


def _rng(seed: Seed) -> random.Random | Any:
    if seed is None or seed is random:
        return random  # the global generator, as micrograd uses
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, a random.Random or None, got {seed!r}")
    return random.Random(seed)


def as_values(x: Any) -> list[Value]:
    """The input as a list of Values: numbers are wrapped once, Values kept."""
    if isinstance(x, Value) or not isinstance(x, Iterable):
        x = [x]
    return [xi if xi.__class__ is Value else Value(xi) for xi in x]


class Module:
    """Base class: ``parameters()``, ``zero_grad()`` and ``model(x)``."""

    def parameters(self) -> list[Value]:
        """All trainable Values, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (``backward`` adds to it)."""
        for p in self.parameters():
            p.grad = 0.0

    def __call__(self, x: Any) -> Any:
        return self.forward(x)

    def forward(self, x: Any) -> Any:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this architecture (for ``nn.save``)."""
        raise NotImplementedError


class Neuron(Module):
    """``a = g(w·x + b)``: ``nin`` weights, a bias and an activation ``g``.

    The sum is one chain of additions starting at the bias,
    ``((b + w0·x0) + w1·x1) + ...``: two nodes per input, no extra zero.
    """

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        *,
        seed: Seed = None,
        nonlin: bool | None = None,
        name: str = "N0",
    ) -> None:
        self.nin = _check_size("nin", nin)
        self.activation = check_activation(activation, nonlin)
        self.name = name
        rng = _rng(seed)
        std = math.sqrt(_INIT_GAIN[self.activation] / nin)
        self.w = [Value(rng.gauss(0.0, std), label=f"{name}.w{i}") for i in range(nin)]
        self.b = Value(0.0, label=f"{name}.b")

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: True unless the neuron is linear."""
        return self.activation != "linear"

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def forward(self, x: Any) -> Value:
        """g(w·x + b) for a list of ``nin`` floats or Values."""
        return self._forward(_checked_input(x, self.nin, f"Neuron {self.name}"))

    def _forward(self, x: list[Value]) -> Value:
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        a = self.activation
        if a == "relu":
            return act.relu()
        if a == "tanh":
            return act.tanh()
        if a == "sigmoid":
            return act.sigmoid()
        return act

    def config(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation, "name": self.name}

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs: ``a = g(W·x + b)``."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        *,
        seed: Seed = None,
        nonlin: bool | None = None,
        name: str = "L0",
    ) -> None:
        self.nin = _check_size("nin", nin)
        self.nout = _check_size("nout", nout)
        self.activation = check_activation(activation, nonlin)
        self.name = name
        rng = _rng(seed)
        self.neurons = [
            Neuron(nin, self.activation, seed=rng, name=f"{name}.N{j}") for j in range(nout)
        ]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def forward(self, x: Any) -> Value | list[Value]:
        """The neurons' outputs: a Value if the layer has one neuron, else a list."""
        out = self._forward(_checked_input(x, self.nin, f"Layer {self.name}"))
        return out[0] if len(out) == 1 else out

    def _forward(self, x: list[Value]) -> list[Value]:
        return [n._forward(x) for n in self.neurons]

    def config(self) -> dict[str, Any]:
        return {
            "type": "Layer",
            "nin": self.nin,
            "nout": self.nout,
            "activation": self.activation,
            "name": self.name,
        }

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """Layers of sizes ``nin → nouts[0] → ... → nouts[-1]``.

    Hidden layers use ``activation``; the last layer uses ``output_activation``,
    linear by default (its outputs are logits or scores for a loss). micrograd's
    lecture MLP, tanh everywhere, is ``MLP(3, [4, 4, 1], "tanh", output_activation="tanh")``.
    Layers are named ``L0``, ``L1``, ...
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        *,
        output_activation: str = "linear",
        seed: Seed = None,
    ) -> None:
        self.nin = _check_size("nin", nin)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        self.nouts = [_check_size("each layer size in nouts", n) for n in nouts]
        self.activation = check_activation(activation)
        self.output_activation = check_activation(output_activation)
        rng = _rng(seed)
        sizes = [nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                self.output_activation if i == last else self.activation,
                seed=rng,
                name=f"L{i}",
            )
            for i in range(len(self.nouts))
        ]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def forward(self, x: Any) -> Value | list[Value]:
        """The last layer's outputs: a Value if it has one neuron, else a list."""
        h = _checked_input(x, self.nin, "MLP")
        for layer in self.layers:
            h = layer._forward(h)
        return h[0] if len(h) == 1 else h

    def config(self) -> dict[str, Any]:
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.activation,
            "output_activation": self.output_activation,
        }

    def __repr__(self) -> str:
        last = self.output_activation
        tail = "" if last == "linear" else f", output_activation={last!r}"
        return f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}{tail})"


def _checked_input(x: Any, nin: int, who: str) -> list[Value]:
    xs = as_values(x)
    if len(xs) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(xs)}")
    return xs
