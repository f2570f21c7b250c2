"""Small trained runs for the network view's tests, and the engine's own numbers to check by.

``small_run()`` trains the tests' 2-4-4-3 MLP on spirals for 20 epochs with
``record=True`` (once per process). ``engine_pass`` computes one training
point's forward and backward pass with the scalar engine through nn's public
API only, independently of viz.network_data, as the reference every number
of the view is compared with.
"""

from __future__ import annotations

import functools
from typing import Any

import nn
from autograd_lite import Value


@functools.cache
def small_run() -> tuple[Any, Any, Any, Any, Any, Any]:
    """(model, X, y, X_test, y_test, history): 2-4-4-3 on 80 spiral points, 20 epochs."""
    X, y = nn.data.make_spirals(100, seed=0)
    X, X_test, y, y_test = nn.data.train_test_split(X, y, test_fraction=0.2, seed=0)
    model = nn.MLP(2, [4, 4, 3], seed=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    history = nn.train.fit(
        model, X, y, epochs=20, batch_size=16, optimizer=optimizer, progress=False, record=True
    )
    return model, X, y, X_test, y_test, history


def engine_pass(model: Any, params: list[float], x: Any, label: int) -> dict[str, Any]:
    """The scalar engine on one point at ``params``: per neuron label its output h (a logit
    for the output layer), ∂L/∂z, and per parameter label its grad; the loss. The
    model's parameters are restored."""
    saved = [(p.data, p.grad) for p in model.parameters()]
    try:
        for p, v in zip(model.parameters(), params):
            p.data, p.grad = v, 0.0
        h = [Value(float(v)) for v in x]
        out = {f"in.{j}": v.data for j, v in enumerate(h)}
        delta_of = {}
        for layer in model.layers:
            h = [n(h) for n in layer.neurons]
            for n, o in zip(layer.neurons, h):
                out[n.name] = o.data
                delta_of[n.name] = o if n.activation == "linear" else o.parents[0]
        loss = nn.softmax_cross_entropy(h, int(label))
        loss.backward()
        return {
            "out": out,
            "delta": {k: z.grad for k, z in delta_of.items()},
            "grad": {p.label: p.grad for p in model.parameters()},
            "loss": loss.data,
        }
    finally:
        for p, (d, g) in zip(model.parameters(), saved):
            p.data, p.grad = d, g
