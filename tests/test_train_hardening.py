"""train and fit under bad settings: divergence, sizes that cannot finish, all-or-none outputs."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

import nn
from autograd_lite.cli import common, main
from autograd_lite.cli import train as train_command
from viz import plots

DIVERGING = ["--activation", "linear", "--optimizer", "sgd", "--lr", "10", "--points", "20"]
SMALL_TRAIN = ["--points", "40", "--hidden", "4", "--epochs", "2", "--no-progress"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- fit stops a diverging run -------------------------------------------------------------


def test_fit_raises_divergence_error_naming_the_epoch_and_the_learning_rate():
    X, y = nn.data.make_moons(20, seed=0)
    model = nn.MLP(2, [16, 16, 2], "linear", seed=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=10, momentum=0.9)
    with pytest.raises(nn.train.DivergenceError) as err:
        nn.train.fit(model, X, y, optimizer=optimizer, epochs=20, batch_size=32, progress=False)
    e = err.value
    assert isinstance(e, FloatingPointError)
    assert str(e).startswith(f"training diverged in epoch {e.epoch}: ")
    assert str(e).endswith("try a smaller learning rate than lr=10")
    assert len(e.history.loss) == e.epoch - 1  # the complete epochs before it
    assert all(math.isfinite(v) for v in e.history.loss)


def test_fit_catches_a_parameter_that_became_infinite_in_the_last_step():
    X, y = [[1.0, 0.0]], [1]
    model = nn.MLP(2, [1], "linear", seed=0)
    model.parameters()[0].data = 100.0  # the loss's gradient is about 200: 200 × 1e307 = inf
    optimizer = nn.optim.SGD(model.parameters(), lr=1e307)
    with pytest.raises(
        nn.train.DivergenceError, match=r"epoch 1: parameter L0\.N0\.w0 is -inf; .* than lr=1e\+307"
    ):
        nn.train.fit(model, X, y, loss="mse", optimizer=optimizer, epochs=1, progress=False)


def test_fit_on_a_healthy_run_is_unchanged():
    X, y = nn.data.make_moons(40, seed=0)
    model = nn.MLP(2, [8, 2], seed=0)
    history = nn.train.fit(model, X, y, epochs=3, progress=False)
    assert len(history.loss) == 3 and all(math.isfinite(v) for v in history.loss)


# ---- train: all outputs or none ------------------------------------------------------------


def test_a_diverging_train_writes_nothing_and_says_why(tmp_path, capsys):
    old = {name: f"old {name}".encode() for name in train_command.OUTPUTS}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    code, out, err = run(
        capsys, "train", *DIVERGING, "--epochs", "20", "--no-progress", "--out", str(tmp_path)
    )
    assert code == 2 and "Traceback" not in err and "final loss" not in out
    last = err.strip().splitlines()[-1]
    assert last.startswith("autograd-lite: error: training diverged in epoch ")
    assert "try a smaller learning rate than lr=10 (--lr); nothing was written" in last
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old


def test_a_failing_output_leaves_every_old_output_in_place(tmp_path, capsys, monkeypatch):
    old = {name: f"old {name}".encode() for name in train_command.OUTPUTS}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)

    def refuse(model, path):  # the last file to be drawn fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(nn, "save", refuse)
    code, out, err = run(capsys, "train", *SMALL_TRAIN, "--out", str(tmp_path))
    assert code == 2 and "wrote" not in out
    assert err.strip().splitlines()[-1] == (
        f"autograd-lite: error: cannot write {tmp_path / 'model.json'}: No space left on device"
    )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old  # no staging folder left


# ---- sizes that cannot finish on a laptop are refused up front -----------------------------


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--hidden", "100000"], "at most 10 hidden layers of at most 1,000 neurons each"),
        (["--hidden", ",".join(["4"] * 11)], "at most 10 hidden layers"),
        (["--points", "1000000"], "argument --points: at most 100,000 points"),
        (["--epochs", "1000000"], "argument --epochs: at most 100,000 epochs"),
        (
            ["--hidden", "1000,1000"],
            "200 points × 1,006,002 parameters × 40 epochs = 8,048,016,000, "
            "more than the limit 2,000,000,000",
        ),
        (
            ["--hidden", "1000", "--points", "5000", "--batch-size", "5000", "--epochs", "1"],
            "5,000 points × 5,002 parameters make a graph of about 50,020,000 Values, "
            "more than the limit 10,000,000",
        ),
    ],
)
def test_sizes_that_cannot_finish_are_refused_before_anything_runs(
    tmp_path, capsys, monkeypatch, argv, reason
):
    monkeypatch.setattr(nn.train, "fit", lambda *a, **k: pytest.fail("trained anyway"))
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "train", *argv, "--out", str(out_dir))
    assert code == 2 and out == ""
    assert reason in err.strip().splitlines()[-1]
    assert not out_dir.exists()


def test_the_limits_are_the_documented_ones():
    assert (common.MAX_POINTS, common.MAX_EPOCHS) == (100_000, 100_000)
    assert (common.MAX_WIDTH, common.MAX_LAYERS) == (1_000, 10)
    assert (train_command.MAX_WORK, train_command.MAX_GRAPH) == (2 * 10**9, 10**7)


def test_the_demo_settings_are_within_the_limits():
    train_command.check_size(dict(train_command.DEMO))


# ---- plots do not scale with the model's width ---------------------------------------------


def test_numpy_forward_works_in_chunks_with_the_same_numbers(monkeypatch):
    model = nn.MLP(2, [256, 3], "tanh", seed=0)
    points = np.random.default_rng(0).normal(size=(10_000, 2))
    whole = plots.numpy_forward(model)(points)  # 10,000 × 256 floats at once: 20 MB
    monkeypatch.setattr(plots, "CHUNK_FLOATS", 4096)  # 16 points per chunk
    chunked = plots.numpy_forward(model)
    tracemalloc.start()
    try:
        result = chunked(points)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # BLAS blocks a 16-row product differently from a 10,000-row one: the last bits may differ.
    np.testing.assert_allclose(result, whole, rtol=1e-12, atol=1e-14)
    assert peak < 2 * 2**20, f"{peak / 2**20:.1f} MB"


def test_a_wide_model_is_plotted_without_a_memory_error(tmp_path):
    X, y = nn.data.make_moons(20, seed=0)
    model = nn.MLP(2, [4000, 2], seed=0)  # 200 × 200 grid × 4000: 2.4 GB at once
    tracemalloc.start()
    try:
        plots.plot_decision_boundary(model, X, y, tmp_path / "wide.png", resolution=50)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20
    assert (tmp_path / "wide.png").read_bytes().startswith(b"\x89PNG")
