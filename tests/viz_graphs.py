"""Graphs for the viz tests, built by hand from labelled Values (no dependency on nn).

``nonzero_numbers`` draws the magnitudes a label must never show as zero.
``mlp_graph`` builds what an nn MLP builds: parameters labelled ``L{i}.N{j}.w{k}``
and ``L{i}.N{j}.b``, neurons ``act(sum_k w_k x_k + b)``, and a squared-error loss.
"""

from __future__ import annotations

import math
import random

from hypothesis import strategies as st

from autograd_lite import Value


def nonzero_numbers() -> st.SearchStrategy[float]:
    """Nonzero floats of every magnitude from 1e-300 to 1e300, either sign (hypothesis)."""
    return st.builds(
        lambda mantissa, exponent, sign: sign * mantissa * 10.0**exponent,
        st.floats(1.0, 10.0, exclude_max=True),
        st.integers(-300, 300),
        st.sampled_from([-1.0, 1.0]),
    ).filter(lambda x: x != 0 and math.isfinite(x))


def mlp_graph(
    sizes: tuple[int, ...] = (2, 16, 16, 1),
    *,
    samples: int = 1,
    activation: str = "tanh",
    seed: int = 0,
) -> Value:
    """The loss of an MLP ``sizes[0] -> ... -> sizes[-1]`` on ``samples`` inputs, after backward.

    Hidden layers use ``activation`` ('tanh' or 'relu'), the last layer tanh.
    """
    rng = random.Random(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        neurons = []
        for j in range(n_out):
            w = [Value(rng.uniform(-1, 1), label=f"L{i}.N{j}.w{k}") for k in range(n_in)]
            b = Value(rng.uniform(-1, 1), label=f"L{i}.N{j}.b")
            neurons.append((w, b))
        layers.append(neurons)
    loss: Value | None = None
    for s in range(samples):
        h: list[Value] = [
            Value(rng.uniform(-2, 2), label=f"x{k}" if samples == 1 else f"x{s}_{k}")
            for k in range(sizes[0])
        ]
        for i, neurons in enumerate(layers):
            last = i == len(layers) - 1
            outs = []
            for w, b in neurons:
                z = b
                for wk, xk in zip(w, h):
                    z = z + wk * xk
                outs.append(z.tanh() if last or activation == "tanh" else z.relu())
            h = outs
        err = (h[0] - rng.choice([-1.0, 1.0])) ** 2
        loss = err if loss is None else loss + err
    assert loss is not None
    loss.backward()
    return loss
