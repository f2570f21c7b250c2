"""nn.train.fit: models learn moons and spirals; history, progress bar, determinism, bad input."""

import gc

import numpy as np
import pytest

import nn
from nn.metrics import accuracy
from nn.train import evaluate, fit, predict


def _train(X, y, nouts, *, loss="softmax_cross_entropy", epochs, lr=0.05, seed=0, **kwargs):
    model = nn.MLP(2, nouts, seed=seed)
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    history = fit(
        model, X, y, loss=loss, optimizer=optimizer, epochs=epochs, progress=False, **kwargs
    )
    return model, history


def test_mlp_learns_moons():
    X, y = nn.data.make_moons(100, noise=0.1, seed=0)
    model, history = _train(X, y, [16, 16, 2], epochs=12, batch_size=10)  # 120 Adam steps
    assert accuracy(predict(model, X), y) >= 0.97
    assert history.loss[-1] < 0.1 * history.loss[0]


def test_mlp_learns_three_spirals():
    X, y = nn.data.make_spirals(90, classes=3, noise=0.05, seed=0, turns=0.6)  # short arms
    model, _ = _train(X, y, [16, 16, 3], epochs=20, batch_size=10)  # 180 Adam steps
    assert accuracy(predict(model, X), y) >= 0.95


@pytest.mark.parametrize("loss", ["hinge", "binary_cross_entropy_with_logits", nn.hinge])
def test_one_output_model_with_binary_losses(loss):
    X, y = nn.data.make_moons(100, noise=0.1, seed=0)
    model, history = _train(X, y, [16, 16, 1], loss=loss, epochs=15, batch_size=10)
    assert accuracy(predict(model, X), y) >= 0.95
    assert evaluate(model, X, y, loss=loss)[1] == accuracy(predict(model, X), y)
    assert history.accuracy[-1] >= 0.9


def test_hinge_with_plus_minus_one_labels():
    X, y = nn.data.make_moons(60, noise=0.1, seed=1)
    model, history = _train(X, 2 * y - 1, [8, 8, 1], loss="hinge", epochs=10, batch_size=10)
    assert accuracy(predict(model, X), 2 * y - 1) >= 0.9
    assert history.accuracy[-1] >= 0.85


def test_history_and_full_batch_default():
    X, y = nn.data.make_blobs(30, centers=3, seed=0)
    model, history = _train(X, y, [8, 3], epochs=5)
    assert len(history.loss) == len(history.accuracy) == len(history.seconds) == 5
    assert all(0.0 <= a <= 1.0 for a in history.accuracy)
    assert all(s > 0 for s in history.seconds)
    # Full batch: the first epoch's loss is the untrained model's mean loss.
    fresh = nn.MLP(2, [8, 3], seed=0)
    assert history.loss[0] == pytest.approx(evaluate(fresh, X, y)[0], rel=1e-12)


def test_default_optimizer_and_mse():
    X, y = nn.data.make_blobs(30, centers=2, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)
    history = fit(model, X, y, loss="mse", epochs=30, progress=False)
    assert history.loss[-1] < history.loss[0]
    assert accuracy(predict(model, X, threshold=0.5), y) >= 0.9


def test_same_seed_same_history():
    X, y = nn.data.make_moons(40, seed=0)
    _, h1 = _train(X, y, [8, 2], epochs=3, batch_size=7, seed=1)
    _, h2 = _train(X, y, [8, 2], epochs=3, batch_size=7, seed=1)
    assert h1.loss == h2.loss and h1.accuracy == h2.accuracy
    model = nn.MLP(2, [8, 2], seed=1)
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    h4 = fit(model, X, y, optimizer=opt, epochs=3, batch_size=7, seed=2, progress=False)
    assert h4.loss != h1.loss  # another shuffle


def test_progress_bar_goes_to_stderr_and_can_be_disabled(capsys):
    X, y = nn.data.make_moons(20, seed=0)
    fit(nn.MLP(2, [4, 2], seed=0), X, y, epochs=2, progress=True)
    captured = capsys.readouterr()
    assert "train" in captured.err and "2/2" in captured.err and captured.out == ""
    fit(nn.MLP(2, [4, 2], seed=0), X, y, epochs=2, progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_callback_runs_after_each_epoch():
    X, y = nn.data.make_moons(20, seed=0)
    seen = []
    fit(
        nn.MLP(2, [4, 2], seed=0),
        X,
        y,
        epochs=3,
        progress=False,
        callback=lambda epoch, history: seen.append((epoch, len(history.loss))),
    )
    assert seen == [(0, 1), (1, 2), (2, 3)]


def test_garbage_collector_is_restored_even_after_an_error():
    X, y = nn.data.make_moons(20, seed=0)
    assert gc.isenabled()
    with pytest.raises(ValueError, match="out of range"):
        fit(nn.MLP(2, [4, 2], seed=0), X, y + 5, epochs=1, progress=False)
    assert gc.isenabled()


def test_evaluate_builds_no_graph():
    X, y = nn.data.make_moons(20, seed=0)
    model = nn.MLP(2, [4, 2], seed=0)
    loss, acc = evaluate(model, X, y)
    assert loss > 0 and 0 <= acc <= 1
    assert all(p.grad == 0.0 for p in model.parameters())
    from autograd_lite import no_grad

    with no_grad():
        out = model(X[0])
    assert all(o.parents == () for o in out)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": "l1"}, "unknown loss 'l1'; choose one of 'softmax_cross_entropy'"),
        ({"epochs": -1}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_arguments(kwargs, message):
    X, y = nn.data.make_moons(10, seed=0)
    with pytest.raises(ValueError, match=message):
        fit(nn.MLP(2, [2], seed=0), X, y, progress=False, **kwargs)


def test_mismatched_or_empty_data():
    model = nn.MLP(2, [2], seed=0)
    with pytest.raises(ValueError, match="10 rows but y has 9"):
        fit(model, np.zeros((10, 2)), np.zeros(9, dtype=int), progress=False)
    with pytest.raises(ValueError, match="empty"):
        fit(model, np.zeros((0, 2)), np.zeros(0, dtype=int), progress=False)
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        fit(model, np.zeros((4, 3)), np.zeros(4, dtype=int), progress=False)
