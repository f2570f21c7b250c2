"""nn.Neuron, nn.Layer, nn.MLP: shapes, labels, init, micrograd compatibility, bad input."""

import math
import random
import statistics

import numpy as np
import pytest

import nn
from autograd_lite import Value, gradcheck


def test_parameter_count_and_order_match_micrograd():
    micrograd_nn = pytest.importorskip("micrograd.nn")
    ours, theirs = nn.MLP(2, [16, 16, 1]), micrograd_nn.MLP(2, [16, 16, 1])
    assert len(ours.parameters()) == len(theirs.parameters()) == 337
    # Same layout: layer by layer, neuron by neuron, weights then bias.
    shapes = [len(n.w) + 1 for layer in ours.layers for n in layer.neurons]
    their_shapes = [len(n.w) + 1 for layer in theirs.layers for n in layer.neurons]
    assert shapes == their_shapes
    layer0 = ours.layers[0].neurons[0]
    assert ours.parameters()[:3] == [layer0.w[0], layer0.w[1], layer0.b]


def test_labels_are_zero_based_layer_neuron_weight():
    model = nn.MLP(3, [4, 2], seed=0)
    labels = [p.label for p in model.parameters()]
    assert labels[:4] == ["L0.N0.w0", "L0.N0.w1", "L0.N0.w2", "L0.N0.b"]
    assert "L0.N3.w1" in labels and "L0.N3.b" in labels
    assert labels[-1] == "L1.N1.b"
    assert len(set(labels)) == len(labels)
    assert [p.label for p in nn.Neuron(2).parameters()] == ["N0.w0", "N0.w1", "N0.b"]
    assert nn.Layer(2, 2).parameters()[-1].label == "L0.N1.b"
    assert nn.Neuron(2, name="out").b.label == "out.b"


def test_return_types_like_micrograd():
    x = [0.5, -1.0]
    assert isinstance(nn.MLP(2, [4, 1], seed=0)(x), Value)
    out = nn.MLP(2, [4, 3], seed=0)(x)
    assert isinstance(out, list) and len(out) == 3 and all(isinstance(o, Value) for o in out)
    assert isinstance(nn.Layer(2, 1, seed=0)(x), Value)
    assert isinstance(nn.Layer(2, 2, seed=0)(x), list)
    assert isinstance(nn.Neuron(2, seed=0)(x), Value)
    # Values as inputs, and a hidden layer of a single neuron (micrograd fails on it).
    assert isinstance(nn.MLP(2, [1, 2], seed=0)([Value(0.5), Value(-1.0)]), list)


def test_neuron_computes_activation_of_affine():
    for activation, g in [
        ("relu", lambda z: max(z, 0.0)),
        ("tanh", math.tanh),
        ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
        ("linear", lambda z: z),
    ]:
        neuron = nn.Neuron(3, activation, seed=1)
        neuron.b.data = 0.25
        x = [0.3, -1.2, 2.0]
        z = sum(w.data * xi for w, xi in zip(neuron.w, x)) + 0.25
        assert neuron(x).data == pytest.approx(g(z), abs=1e-14)


def test_dot_product_is_one_chain_from_the_bias():
    neuron = nn.Neuron(3, "linear", seed=0)
    out = neuron([1.0, 2.0, 3.0])
    # ((b + w0·x0) + w1·x1) + w2·x2: 3 muls + 3 adds, and no Value(0) anywhere.
    node, adds = out, 0
    while node.op == "add":
        adds += 1
        assert node.parents[1].op == "mul"
        node = node.parents[0]
    assert adds == 3 and node is neuron.b


def test_micrograd_nonlin_flag():
    assert nn.Neuron(2, nonlin=True).activation == "relu"
    assert nn.Neuron(2, nonlin=False).activation == "linear"
    assert nn.Neuron(2, False).activation == "linear"  # micrograd's positional form
    assert nn.Layer(2, 3, nonlin=False).neurons[2].activation == "linear"
    assert nn.Neuron(2, "tanh").nonlin is True
    with pytest.raises(ValueError, match="contradicts"):
        nn.Neuron(2, "tanh", nonlin=False)


def test_mlp_hidden_layers_use_activation_last_is_linear():
    model = nn.MLP(2, [3, 3, 2], "tanh", seed=0)
    assert [layer.activation for layer in model.layers] == ["tanh", "tanh", "linear"]
    assert [layer.name for layer in model.layers] == ["L0", "L1", "L2"]


def test_seeded_initialization_is_reproducible():
    a = [p.data for p in nn.MLP(2, [8, 8, 2], seed=7).parameters()]
    b = [p.data for p in nn.MLP(2, [8, 8, 2], seed=7).parameters()]
    c = [p.data for p in nn.MLP(2, [8, 8, 2], seed=8).parameters()]
    assert a == b and a != c
    # seed=None draws from the global random module, as micrograd does.
    random.seed(1337)
    d = [p.data for p in nn.MLP(2, [4, 1]).parameters()]
    random.seed(1337)
    assert d == [p.data for p in nn.MLP(2, [4, 1]).parameters()]
    assert [p.data for p in nn.Layer(3, 2, seed=random.Random(5)).parameters()] == [
        p.data for p in nn.Layer(3, 2, seed=5).parameters()
    ]


@pytest.mark.parametrize(
    ("activation", "variance"), [("relu", 2.0), ("tanh", 1.0), ("sigmoid", 1.0)]
)
def test_initialization_scaled_by_fan_in(activation, variance):
    nin = 50
    layer = nn.Layer(nin, 40, activation, seed=3)
    weights = [w.data for n in layer.neurons for w in n.w]
    assert statistics.pstdev(weights) == pytest.approx(math.sqrt(variance / nin), rel=0.05)
    assert abs(statistics.fmean(weights)) < 0.02
    assert all(n.b.data == 0.0 for n in layer.neurons)


def test_mlp_input_gradients_pass_gradcheck():
    model = nn.MLP(3, [4, 4, 2], "tanh", seed=2)
    assert gradcheck(lambda xs: model(xs), [0.5, -0.3, 0.8])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_parameter_gradients_match_torch(activation):
    torch = pytest.importorskip("torch")
    model = nn.MLP(3, [5, 4, 3], activation, seed=4)
    for i, p in enumerate(model.parameters()):
        if p.label.endswith(".b"):
            p.data = 0.1 * (i % 7 - 3)  # non-zero biases
    X = [[0.5, -0.3, 0.8], [-1.0, 0.2, 0.4]]
    targets = [2, 0]
    model.zero_grad()
    total = nn.softmax_cross_entropy(model(X[0]), targets[0])
    total = (total + nn.softmax_cross_entropy(model(X[1]), targets[1])) * 0.5
    total.backward()

    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    tensors = []
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64)
        tensors.append((W.requires_grad_(), b.requires_grad_()))
    h = torch.tensor(X, dtype=torch.float64)
    for i, (W, b) in enumerate(tensors):
        h = h @ W.T + b
        if i < len(tensors) - 1:
            h = act(h)
    loss = torch.nn.functional.cross_entropy(h, torch.tensor(targets))
    loss.backward()
    assert total.data == pytest.approx(loss.item(), abs=1e-12)
    expected = [
        g
        for W, b in tensors
        for j in range(W.shape[0])
        for g in [*W.grad[j].tolist(), b.grad[j].item()]
    ]
    np.testing.assert_allclose([p.grad for p in model.parameters()], expected, rtol=0, atol=1e-12)


def test_zero_grad():
    model = nn.MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_numpy_rows_are_accepted():
    model = nn.MLP(2, [3, 2], seed=0)
    row = np.array([0.5, -1.0])
    assert [o.data for o in model(row)] == [o.data for o in model([0.5, -1.0])]


def test_wrong_input_length_is_a_value_error():
    with pytest.raises(ValueError, match="MLP expects 2 inputs, got 3"):
        nn.MLP(2, [3, 1])([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Layer L0 expects 2 inputs, got 1"):
        nn.Layer(2, 3)([1.0])
    with pytest.raises(ValueError, match="Neuron N0 expects 3 inputs, got 2"):
        nn.Neuron(3)([1.0, 2.0])


def test_unknown_activation_lists_the_choices():
    for make in (
        lambda: nn.Neuron(2, "gelu"),
        lambda: nn.Layer(2, 2, "gelu"),
        lambda: nn.MLP(2, [2], "gelu"),
    ):
        with pytest.raises(ValueError) as err:
            make()
        message = str(err.value)
        assert "'gelu'" in message
        assert all(repr(a) in message for a in ("relu", "tanh", "sigmoid", "linear"))


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Neuron(0),
        lambda: nn.Layer(2, 0),
        lambda: nn.MLP(2, []),
        lambda: nn.MLP(2, [3, -1]),
    ],
)
def test_bad_sizes(make):
    with pytest.raises(ValueError):
        make()


def _micrograd_demo(MLP, Value, X, y, steps):
    """micrograd's demo.ipynb training loop, verbatim apart from the step count."""
    model = MLP(2, [16, 16, 1])

    def loss(batch_size=None):
        if batch_size is None:
            Xb, yb = X, y
        else:
            ri = np.random.permutation(X.shape[0])[:batch_size]
            Xb, yb = X[ri], y[ri]
        inputs = [list(map(Value, xrow)) for xrow in Xb]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    history = []
    for k in range(steps):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((total_loss.data, acc))
    return model, history


def test_micrograd_demo_runs_unchanged_and_matches_micrograd():
    micrograd_nn = pytest.importorskip("micrograd.nn")
    micrograd_engine = pytest.importorskip("micrograd.engine")
    X, y = nn.data.make_moons(24, noise=0.1, seed=0)
    y = y * 2 - 1
    random.seed(1337)
    ours, our_history = _micrograd_demo(nn.MLP, Value, X, y, steps=3)
    assert len(ours.parameters()) == 337
    assert our_history[-1][0] < our_history[0][0]
    # The same run in micrograd itself, from the same initial weights: same losses.
    random.seed(1337)
    init = [p.data for p in nn.MLP(2, [16, 16, 1]).parameters()]
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    for p, value in zip(theirs.parameters(), init, strict=True):
        p.data = value
    _, their_history = _micrograd_demo(lambda nin, nouts: theirs, micrograd_engine.Value, X, y, 3)
    for (our_loss, our_acc), (their_loss, their_acc) in zip(our_history, their_history):
        assert our_loss == pytest.approx(their_loss, abs=1e-12)
        assert our_acc == their_acc
