"""viz.plots: the decision boundary and the loss curve, drawn with matplotlib's Agg canvas."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nn
from autograd_lite import Value
from viz import plots

PNG = b"\x89PNG\r\n\x1a\n"


def moons(n: int = 40):
    return nn.data.make_moons(n, seed=1)


@pytest.mark.parametrize(
    "model",
    [
        nn.MLP(2, [5, 4, 3], "relu", seed=0),
        nn.MLP(2, [6, 2], "tanh", seed=1),
        nn.MLP(2, [3, 1], "sigmoid", seed=2),
        nn.Layer(2, 3, "linear", seed=3),
        nn.Neuron(2, "tanh", seed=4),
    ],
    ids=repr,
)
def test_numpy_forward_is_the_engines_forward(model):
    X = np.random.default_rng(0).normal(size=(25, 2)) * 3
    fast = plots.numpy_forward(model)
    assert fast is not None
    slow = plots._engine_forward(model)
    np.testing.assert_allclose(fast(X), slow(X), rtol=1e-12, atol=1e-12)


def test_numpy_forward_declines_other_models():
    assert plots.numpy_forward(lambda x: Value(x[0])) is None


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_decision_boundary_formats(tmp_path, suffix):
    X, y = moons()
    path = plots.plot_decision_boundary(nn.MLP(2, [4, 2], seed=0), X, y, tmp_path / f"db{suffix}")
    data = path.read_bytes()
    if suffix == ".png":
        assert data.startswith(PNG)
    elif suffix == ".svg":
        ET.fromstring(data)
    else:
        assert data.startswith(b"%PDF")
    assert os.listdir(tmp_path) == [f"db{suffix}"]


def test_same_picture_same_bytes(tmp_path):
    X, y = moons()
    model = nn.MLP(2, [4, 2], seed=0)
    for suffix in (".png", ".svg"):
        a = plots.plot_decision_boundary(model, X, y, tmp_path / f"a{suffix}").read_bytes()
        b = plots.plot_decision_boundary(model, X, y, tmp_path / f"b{suffix}").read_bytes()
        assert a == b


def test_any_callable_model_with_one_score(tmp_path):
    """A model nn does not know is called point by point; one score means class = score > 0."""
    X, y = moons()
    calls = []

    def model(x):
        calls.append(x)
        return x[0] * 2.0 - 1.0 + Value(0.0)

    plots.plot_decision_boundary(model, X, y, tmp_path / "db.png", resolution=300)
    assert len(calls) == 60 * 60 + len(X)  # the grid is capped at 60 × 60 for slow models
    assert plots._classes(np.array([[-0.5], [0.5]]), 0.0).tolist() == [0, 1]


def test_decision_boundary_rejects_bad_input(tmp_path):
    X, y = moons()
    model = nn.MLP(2, [2], seed=0)
    with pytest.raises(ValueError, match="use a name ending in .png, .svg or .pdf"):
        plots.plot_decision_boundary(model, X, y, tmp_path / "db.jpg")
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        plots.plot_decision_boundary(model, X[:, :1], y, tmp_path / "db.png")
    with pytest.raises(ValueError, match="y must have shape"):
        plots.plot_decision_boundary(model, X, y[:-1], tmp_path / "db.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "history",
    [
        nn.train.History(loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.7, 0.9], seconds=[0.1] * 3),
        {"loss": [1.0, 0.4], "accuracy": [0.5, 0.8]},
        [3.0, 2.0, 1.0, 0.0],  # a zero loss: linear scale instead of log
        [0.7],
    ],
    ids=["History", "dict", "list", "one epoch"],
)
def test_plot_loss(tmp_path, history):
    path = plots.plot_loss(history, tmp_path / "loss.png")
    assert path.read_bytes().startswith(PNG)
    assert os.listdir(tmp_path) == ["loss.png"]


def test_plot_loss_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="no losses"):
        plots.plot_loss([], tmp_path / "loss.png")
    with pytest.raises(TypeError, match="history must be"):
        plots.plot_loss(3.0, tmp_path / "loss.png")
    with pytest.raises(ValueError, match="suffix"):
        plots.plot_loss([1.0], tmp_path / "loss")


def test_plotting_does_not_touch_pyplot_or_the_backend(tmp_path):
    import sys

    import matplotlib

    backend = matplotlib.get_backend()
    plots.plot_loss([1.0, 0.5], tmp_path / "loss.png")
    assert matplotlib.get_backend() == backend
    assert "matplotlib.pyplot" not in sys.modules or _no_open_figures()


def _no_open_figures() -> bool:
    import matplotlib.pyplot as plt

    return plt.get_fignums() == []


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "loss.png"
    target.write_bytes(b"old")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        plots.plot_loss([1.0, 0.5], target)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["loss.png"]


def _svg_texts(path) -> str:
    """matplotlib's SVG keeps each text it draws as a comment beside its glyphs."""
    return path.read_text(encoding="utf-8")


def test_plot_loss_names_the_last_epoch_and_the_final_loss(tmp_path):
    history = nn.train.History(loss=[0.9, 0.2, 0.0493], accuracy=[0.5, 0.9, 0.97])
    svg = _svg_texts(plots.plot_loss(history, tmp_path / "loss.svg", final=(0.039, 0.98)))
    assert "last epoch (mean over its batches): loss 0.0493, accuracy 97.0%" in svg
    assert "after training, training data: loss 0.039, accuracy 98.0%" in svg
    assert "training loss, mean over the epoch" in svg
    assert "loss after training, training data" in svg
    assert "held-out" not in svg and "whole data set" not in svg
    # Without the final measure only the last epoch's, still named for what it is.
    svg = _svg_texts(plots.plot_loss([0.5, 0.25], tmp_path / "plain.svg"))
    assert "last epoch (mean over its batches): loss 0.25" in svg
    assert "after training" not in svg
    # A small loss is written in significant digits: never as 0.0000.
    svg = _svg_texts(plots.plot_loss([0.5, 2.5e-7], tmp_path / "small.svg", final=(1.25e-7, 1.0)))
    assert "loss 2.5e-07" in svg and "loss 1.25e-07" in svg


def test_plot_loss_shows_training_and_held_out_data_apart_each_named(tmp_path):
    """With a held-out set, the title and the legend name each measure for its data."""
    history = nn.train.History(loss=[0.9, 0.2, 0.0493], accuracy=[0.5, 0.9, 0.97])
    path = plots.plot_loss(
        history, tmp_path / "loss.svg", final=(0.039, 0.98), held_out=(0.3125, 0.875)
    )
    svg = _svg_texts(path)
    assert "after training, training data: loss 0.039, accuracy 98.0%" in svg
    assert "after training, held-out data: loss 0.3125, accuracy 87.5%" in svg
    for label in (
        "training loss, mean over the epoch",
        "training accuracy, mean over the epoch",
        "loss after training, training data",
        "loss after training, held-out data",
        "accuracy after training, training data",
        "accuracy after training, held-out data",
    ):
        assert f"<!-- {label} -->" in svg, label


def _png_size(path) -> tuple[int, int]:
    import struct

    data = path.read_bytes()
    assert data.startswith(PNG) and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_pngs_have_twice_the_pixels_of_the_figure(tmp_path):
    """HiDPI: 200 pixels per inch of figure, so a page shows them sharp at half their pixels."""
    X, y = moons()
    boundary = plots.plot_decision_boundary(nn.MLP(2, [4, 2], seed=0), X, y, tmp_path / "db.png")
    assert _png_size(boundary) == (2 * 620, 2 * 480)  # 6.2 × 4.8 in at 100 dpi, twice
    assert _png_size(plots.plot_loss([1.0, 0.5], tmp_path / "l.png")) == (2 * 600, 2 * 380)
    final = plots.plot_loss([1.0, 0.5], tmp_path / "f.png", final=(0.4, None))
    assert _png_size(final) == (2 * 600, 2 * 460)


def test_the_decision_boundary_has_a_legend_of_the_classes_in_their_colours(tmp_path):
    """One key per class, named, in the colour its points and its region are drawn in."""
    X, y = nn.data.make_blobs(60, seed=0)  # 3 classes
    model = nn.MLP(2, [8, 3], seed=0)
    svg = plots.plot_decision_boundary(model, X, y, tmp_path / "db.svg").read_text()
    assert "<!-- point: its class -->" in svg and "<!-- shade: predicted -->" in svg
    legend = svg[svg.index('<g id="legend_1">') :]  # drawn last: the rest of the file
    keys = legend.split("<!-- class ")
    assert [k[:1] for k in keys[1:]] == ["0", "1", "2"]  # one key per class, in order
    for c in range(3):
        colour = plots.CLASS_COLORS[c]
        # Before its name: the marker (a point) and the patch (the shade), in the class colour.
        assert keys[c].count(colour) >= 2 and keys[c + 1].count(colour) == 0, (c, colour)
