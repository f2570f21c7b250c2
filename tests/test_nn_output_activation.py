"""``MLP(..., output_activation=...)``: micrograd lecture's all-tanh MLP, kept by save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from viz.plots import numpy_forward


def test_the_last_layer_uses_output_activation():
    model = nn.MLP(3, [4, 4, 1], "tanh", output_activation="tanh", seed=0)
    assert [layer.activation for layer in model.layers] == ["tanh", "tanh", "tanh"]
    out = model([2.0, 3.0, -1.0])
    assert out.op == "tanh" and -1.0 < out.data < 1.0
    assert repr(model) == "MLP(3, [4, 4, 1], activation='tanh', output_activation='tanh')"


def test_the_default_is_a_linear_last_layer():
    model = nn.MLP(2, [3, 2], seed=0)
    assert model.output_activation == "linear" and model.layers[-1].activation == "linear"
    assert repr(model) == "MLP(2, [3, 2], activation='relu')"


def test_an_unknown_output_activation_names_the_choices():
    with pytest.raises(ValueError, match="unknown activation 'softmax'; choose one of 'relu'"):
        nn.MLP(2, [3, 1], output_activation="softmax")


def test_save_and_load_keep_the_output_activation(tmp_path):
    model = nn.MLP(3, [4, 4, 1], "tanh", output_activation="sigmoid", seed=1)
    nn.save(model, tmp_path / "m.json")
    loaded = nn.load(tmp_path / "m.json")
    assert loaded.output_activation == "sigmoid"
    x = [0.5, -1.0, 2.0]
    assert loaded(x).data == model(x).data


def test_plots_evaluate_the_output_activation_too():
    model = nn.MLP(2, [5, 1], "relu", output_activation="sigmoid", seed=2)
    points = np.array([[0.3, -0.7], [1.5, 2.0]])
    expected = [[model(list(p)).data] for p in points]
    np.testing.assert_allclose(numpy_forward(model)(points), expected, rtol=1e-12)


def test_micrograd_lecture_training_loop_runs_unchanged():
    """The lecture's tiny data set, MLP(3, [4, 4, 1]) with tanh everywhere, plain SGD."""
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    n = nn.MLP(3, [4, 4, 1], "tanh", output_activation="tanh", seed=0)
    for _ in range(50):
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()
        for p in n.parameters():
            p.data += -0.1 * p.grad
    assert loss.data < 0.05 and math.isfinite(loss.data)
    assert [math.copysign(1, n(x).data) for x in xs] == ys
