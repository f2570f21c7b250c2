"""A real data set: ``nn.data.load_digits``, ``train_test_split`` and
``autograd-lite train --dataset digits --compile``."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nn
from autograd_lite.cli import main

sklearn = pytest.importorskip("sklearn", reason="load_digits needs the 'data' extra")


def test_load_digits_shapes_and_range():
    X, y = nn.data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(y.tolist()) == set(range(10))


def test_load_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"autograd-lite\[data\]"):
        nn.data.load_digits()


def test_train_test_split_is_seeded_and_disjoint():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    X_train, X_test, y_train, y_test = nn.data.train_test_split(X, y, test_fraction=0.3, seed=0)
    assert len(X_test) == 3 and len(X_train) == 7
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(10))
    assert (X_test[:, 0] == 2 * y_test).all()  # rows keep their labels
    again = nn.data.train_test_split(X, y, test_fraction=0.3, seed=0)
    assert all((a == b).all() for a, b in zip(again, (X_train, X_test, y_train, y_test)))
    other = nn.data.train_test_split(X, y, test_fraction=0.3, seed=1)
    assert not (other[3] == y_test).all()
    assert len(nn.data.train_test_split(X, y, test_fraction=0.0)[1]) == 0
    with pytest.raises(ValueError, match=r"test_fraction must be in \[0, 1\)"):
        nn.data.train_test_split(X, y, test_fraction=1.0)


def test_train_digits_compiled_reports_held_out_accuracy(capsys, tmp_path):
    code = main(
        [
            "train",
            "--dataset",
            "digits",
            "--compile",
            "--points",
            "500",
            "--epochs",
            "15",
            "--no-progress",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("digits: 400 points (100 more held out), 10 classes; MLP 64-32-10")
    held = [line for line in lines if line.startswith("held-out accuracy: ")]
    assert len(held) == 1
    assert "accuracy: " + held[0].split(": ")[1] in lines
    assert "hint" not in out  # compiled already
    assert float(held[0].split(": ")[1]) >= 0.85
    assert "decision_boundary.png: the data have 64 features" in out
    assert not (tmp_path / "decision_boundary.png").exists()
    assert (tmp_path / "loss.png").exists() and nn.load(tmp_path / "model.json").nin == 64
    # every neuron's player would make the page 3.5 MB: it keeps to 3 MB and says so
    page = (tmp_path / "network.html").read_bytes()
    assert 1_000_000 < len(page) <= 3_000_000
    assert b'"players_left_out":' in page


def test_scalar_digits_training_hints_at_compile(capsys, tmp_path):
    argv = ["train", "--dataset", "digits", "--points", "30", "--hidden", "2", "--epochs", "1"]
    assert main([*argv, "--no-progress", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == (
        "hint: --compile trains this in seconds (the same numbers, replayed with NumPy)"
    )
    assert sum("--compile" in line for line in lines) == 1


def test_test_fraction_on_a_toy_set(capsys, tmp_path):
    argv = ["train", "--points", "40", "--hidden", "4", "--epochs", "2", "--no-progress"]
    assert main([*argv, "--test-fraction", "0.25", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "moons: 30 points (10 more held out)" in out and "held-out accuracy: " in out


def test_fit_and_evaluate_compiled_match_on_digits():
    X, y = nn.data.load_digits()
    X, y = X[:120], y[:120]
    models = [nn.MLP(64, [16, 10], seed=0) for _ in range(2)]
    for model, compile in zip(models, (False, True)):
        nn.train.fit(model, X, y, epochs=2, batch_size=40, progress=False, compile=compile)
    params = [[p.data for p in m.parameters()] for m in models]
    assert np.abs(np.subtract(*params)).max() <= 1e-10
    grads = [p.grad for p in models[0].parameters()]
    scalar = nn.train.evaluate(models[0], X, y)
    compiled = nn.train.evaluate(models[0], X, y, compile=True)
    assert compiled[1] == scalar[1] and abs(compiled[0] - scalar[0]) <= 1e-12
    assert [p.grad for p in models[0].parameters()] == grads  # evaluate leaves .grad alone


def test_train_compile_prints_what_the_scalar_path_prints(capsys, tmp_path):
    argv = ["train", "--points", "40", "--hidden", "6", "--epochs", "3", "--no-progress"]
    outputs = []
    for extra in ([], ["--compile"]):
        assert main([*argv, *extra, "--out", str(tmp_path / str(len(extra)))]) == 0
        out = capsys.readouterr().out
        lines = out.splitlines()  # "trained in … s" differs; the losses must not
        named = ("last epoch", "after training")
        outputs.append([line for line in lines if line.startswith(named)])
    scalar, compiled = outputs
    assert len(scalar) == 2 and scalar == compiled
