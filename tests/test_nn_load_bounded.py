"""``nn.load`` is bounded by what it reads; ``nn.save`` and ``train`` never write a model
``nn.load`` refuses (issue 19.7). Memory is measured with tracemalloc: every refused
file stays under 100 MB of peak Python memory."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

import nn
from autograd_lite.cli import main
from nn import serialize

LIMIT = 100 * 2**20  # bytes of peak memory any refused file may cost


def peak_of(action: Callable[[], object]) -> tuple[Exception | None, int]:
    """(the exception ``action`` raised or None, its peak traced memory in bytes)."""
    tracemalloc.start()
    try:
        try:
            action()
            error = None
        except Exception as e:  # noqa: BLE001 - returned to the test to check
            error = e
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return error, peak


def write(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_a_huge_layer_name_is_refused_before_anything_is_built(tmp_path):
    """2.4 MiB: a Layer named with 2 MiB and 30,000 short weights. The name went into
    every one of the 30,001 labels (tens of GB) before the weights were matched."""
    name = "n" * 2**21
    weights = {f"k{i}": 0.0 for i in range(30_000)}
    data = {
        "format": serialize.FORMAT,
        "version": 2,
        "model": {"type": "Layer", "nin": 30_000, "nout": 1, "activation": "relu", "name": name},
        "parameters": weights,
    }
    path = write(tmp_path / "name.json", json.dumps(data))
    assert 2.3 * 2**20 < path.stat().st_size < 2.5 * 2**20
    error, peak = peak_of(lambda: nn.load(path))
    assert isinstance(error, ValueError)
    assert "'model'.name must be a name of 1 to 64 letters, digits" in str(error)
    assert peak < 20 * 2**20, f"{peak / 2**20:.0f} MB"


def test_a_refused_60_mib_file_costs_little(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as f:
        f.write(b'{"parameters": {' + b'"a": 0, ' * (60 * 2**20 // 8) + b"}}")
    assert path.stat().st_size > 60 * 2**20
    error, peak = peak_of(lambda: nn.load(path))
    assert isinstance(error, ValueError) and "too big" in str(error)
    assert peak < 2**20


@pytest.mark.parametrize(
    ("unit", "reason"),
    [
        (b"[],", "JSON objects and lists"),  # millions of lists: 1.3 GB parsed
        (b"{},", "JSON objects and lists"),
        (b"0,", "entries"),  # millions of numbers
        (b'"",', "entries"),  # millions of strings
        (b"null,", "entries"),
    ],
)
def test_a_file_of_many_small_values_is_refused_before_parsing(tmp_path, unit, reason):
    body = unit * ((serialize.MAX_BYTES - 100) // len(unit))
    path = write(tmp_path / "many.json", b'{"format": "autograd-lite.nn", "x": [' + body + b"0]}")
    assert path.stat().st_size <= serialize.MAX_BYTES
    error, peak = peak_of(lambda: nn.load(path))
    assert isinstance(error, ValueError) and reason in str(error), error
    assert peak < LIMIT, f"{peak / 2**20:.0f} MB"


def test_the_most_entries_a_file_may_have_stay_under_100_mb(tmp_path):
    """As many unique keys as the comma count lets through, in a file just under MAX_BYTES:
    parsed, then refused (unknown keys); the parse is the whole cost."""
    count = serialize.MAX_PARAMETERS + serialize._EXTRA_COMMAS - 3  # + 2 commas at the top
    width = (serialize.MAX_BYTES - 200) // count - len('"":0,')
    keys = (f'"{i:0{width}d}":0' for i in range(count))
    text = '{"format": "autograd-lite.nn", "version": 2, "parameters": {' + ",".join(keys) + "}}"
    path = write(tmp_path / "keys.json", text)
    assert serialize.MAX_BYTES - 2**20 < path.stat().st_size <= serialize.MAX_BYTES
    error, peak = peak_of(lambda: nn.load(path))
    assert isinstance(error, ValueError) and "missing key 'model'" in str(error), error
    assert peak < LIMIT, f"{peak / 2**20:.0f} MB"


def test_save_refuses_what_load_would_refuse(tmp_path, monkeypatch):
    monkeypatch.setattr(serialize, "MAX_PARAMETERS", 100)
    model = nn.MLP(3, [24, 1], seed=0)  # (3 + 1)·24 + 25 = 121 parameters
    with pytest.raises(ValueError, match="declares 121 parameters, more than .*= 100"):
        nn.save(model, tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()
    nn.save(nn.MLP(3, [19, 1], seed=0), tmp_path / "ok.json")  # 96 parameters
    assert len(nn.load(tmp_path / "ok.json").parameters()) == 96
    # A name beyond what load reads: refused by save too.
    with pytest.raises(ValueError, match="'model'.name must be"):
        nn.save(nn.Layer(2, 1, name="x" * 65), tmp_path / "long.json")
    with pytest.raises(ValueError, match="'model'.name must be"):
        nn.save(nn.Neuron(2, name='say "hi", [1]'), tmp_path / "json.json")


def test_the_file_size_bound_holds_for_the_worst_weights(tmp_path, monkeypatch):
    """check_limits' byte count is an upper bound: weights with the longest repr still fit."""
    model = nn.Layer(30, 20, "relu", name="x" * 64)
    for p in model.parameters():
        p.data = -2.2250738585072014e-308
    bound = serialize._HEADER_BYTES + sum(
        serialize._BYTES_PER_PARAMETER + len(p.label) for p in model.parameters()
    )
    nn.save(model, tmp_path / "m.json")
    assert (tmp_path / "m.json").stat().st_size <= bound
    monkeypatch.setattr(serialize, "MAX_BYTES", bound - 1)
    with pytest.raises(ValueError, match=f"takes up to {bound:,} bytes, more than"):
        nn.save(model, tmp_path / "m2.json")


def test_train_refuses_a_model_it_could_not_save_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(nn.train, "fit", lambda *a, **k: pytest.fail("trained anyway"))
    out = tmp_path / "out"
    argv = ["train", "--hidden", "600,500", "--epochs", "1", "--points", "10"]
    code = main([*argv, "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "autograd-lite: error: this model could not be saved: 'model' declares 303,302 "
        "parameters, more than nn.serialize.MAX_PARAMETERS = 250,000; use a smaller --hidden"
    )
    assert not out.exists()
