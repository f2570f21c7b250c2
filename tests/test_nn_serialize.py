"""nn.save / nn.load: exact round trips, atomic writes, and clear errors for bad files."""

import json
import os

import pytest

import nn

MODELS = [
    lambda: nn.MLP(2, [5, 4, 3], "tanh", seed=0),
    lambda: nn.MLP(3, [1], seed=1),
    lambda: nn.Layer(3, 2, "sigmoid", seed=2, name="enc"),
    lambda: nn.Neuron(4, "linear", seed=3),
]


def _outputs(model, x):
    out = model(x)
    return [o.data for o in out] if isinstance(out, list) else [out.data]


@pytest.mark.parametrize("make", MODELS)
def test_round_trip_gives_identical_outputs(tmp_path, make):
    model = make()
    for i, p in enumerate(model.parameters()):
        p.data += 0.1 * i / 3  # non-zero biases, weights with long decimal expansions
    path = tmp_path / "model.json"
    nn.save(model, path)
    loaded = nn.load(path)
    assert type(loaded) is type(model) and loaded.config() == model.config()
    assert [p.data for p in loaded.parameters()] == [p.data for p in model.parameters()]
    assert [p.label for p in loaded.parameters()] == [p.label for p in model.parameters()]
    x = [0.3, -0.7, 1.1, 0.05][: model.nin]
    assert _outputs(loaded, x) == _outputs(model, x)


def test_file_is_json_with_a_format_marker_and_version(tmp_path):
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), str(path))
    data = json.loads(path.read_text())
    assert data["format"] == "autograd-lite.nn" and data["version"] == 2
    assert data["model"] == {
        "type": "MLP",
        "nin": 2,
        "nouts": [3, 1],
        "activation": "relu",
        "output_activation": "linear",
    }
    assert list(data["parameters"])[:3] == ["L0.N0.w0", "L0.N0.w1", "L0.N0.b"]
    assert b"pickle" not in path.read_bytes()


def test_load_does_not_touch_the_global_random_state(tmp_path):
    import random

    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    random.seed(5)
    expected = random.random()
    random.seed(5)
    nn.load(path)
    assert random.random() == expected


def test_save_is_atomic_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    nn.save(nn.MLP(2, [3, 1], seed=1), path)  # overwrite
    assert os.listdir(tmp_path) == ["m.json"]
    assert nn.load(path).parameters()[0].data == nn.MLP(2, [3, 1], seed=1).parameters()[0].data


def test_failed_save_leaves_the_existing_file_untouched(tmp_path):
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    before = path.read_bytes()
    broken = nn.MLP(2, [3, 1], seed=1)
    broken.parameters()[2].data = float("nan")
    with pytest.raises(ValueError, match="not finite"):
        nn.save(broken, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.json"]


def test_failed_write_removes_the_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        nn.save(nn.MLP(2, [3, 1], seed=1), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.json"]


def test_save_keeps_permissions_of_an_existing_file(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("{}")
    path.chmod(0o640)
    nn.save(nn.Neuron(2, seed=0), path)
    assert path.stat().st_mode & 0o777 == 0o640


def _saved(tmp_path):
    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 2], seed=0), path)
    return path, json.loads(path.read_text())


def _write(tmp_path, data):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return path


def test_truncated_file(tmp_path):
    path, _ = _saved(tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="truncated"):
        nn.load(path)
    path.write_text("")
    with pytest.raises(ValueError, match="truncated"):
        nn.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": "autograd-lite.nn", "version": 1,, }', "corrupt"),
        (b"\x80\x04\x95 binary pickle-like bytes", "not UTF-8"),
        (b"[1, 2, 3]", "not an autograd-lite nn model file"),
        (b'{"weights": [1, 2]}', "format marker"),
        (b'{"format": "keras", "version": 1}', "found 'keras'"),
    ],
)
def test_corrupt_or_foreign_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as err:
        nn.load(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("version"), "'version'"),
        (lambda d: d.update(version=99), "newer"),
        (lambda d: d.pop("model"), "missing key 'model'"),
        (lambda d: d.pop("parameters"), "missing key 'parameters'"),
        (lambda d: d["model"].pop("nouts"), "missing key 'nouts'"),
        (lambda d: d["model"].update(type="Transformer"), "unknown model type 'Transformer'"),
        (lambda d: d["model"].update(nouts=[3, 0]), "nouts must be"),
        (lambda d: d["model"].update(activation="gelu"), "activation must be one of.*'gelu'"),
        (lambda d: d["parameters"].pop("L1.N1.b"), "missing parameter.*'L1.N1.b'"),
        (lambda d: d["parameters"].update({"L9.N0.b": 0.0}), "unexpected parameter 'L9.N0.b'"),
        (lambda d: d["parameters"].update({"L0.N0.w0": "0.5"}), "'L0.N0.w0' in 'parameters' must"),
        (lambda d: d.update(parameters=[1.0, 2.0]), "'parameters' must be a JSON object"),
    ],
)
def test_missing_or_wrong_keys(tmp_path, edit, message):
    _, data = _saved(tmp_path)
    edit(data)
    with pytest.raises(ValueError, match=message):
        nn.load(_write(tmp_path, data))


def test_non_finite_weight_in_file(tmp_path):
    path, _ = _saved(tmp_path)
    text = path.read_text()
    first = text.index('"L0.N0.w0": ') + len('"L0.N0.w0": ')
    end = text.index(",", first)
    path.write_text(text[:first] + "NaN" + text[end:])
    with pytest.raises(ValueError, match="NaN"):
        nn.load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nope.json")
