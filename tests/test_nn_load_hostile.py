"""``nn.load`` on hostile files, and ``nn.save`` interrupted by signals.

Every malformed file raises ValueError naming the path and the field, before
anything big is built: each case below stays under 100 MB of Python memory
(measured with tracemalloc). Special files are refused without blocking.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

import nn
from nn import serialize

ROOT = Path(__file__).resolve().parents[1]


def _good() -> dict:
    return serialize.to_dict(nn.MLP(2, [3, 2], seed=0))


def _with(**changes) -> dict:
    data = _good()
    for key, value in changes.items():
        if key.startswith("model_"):
            data["model"][key[len("model_") :]] = value
        else:
            data[key] = value
    return data


def _text(data: dict) -> bytes:
    return json.dumps(data).encode()


HOSTILE = {
    # sizes that would allocate gigabytes if the model were built first
    "billion_neurons": (_text(_with(model_nouts=[1_000_000_000, 1])), "declares 4,000,000,00"),
    "billion_inputs": (_text(_with(model_nin=10**9)), "declares"),
    "huge_but_empty": (
        _text(_with(model_nouts=[60_000, 1], parameters={})),
        "missing parameter.*'L0.N0.w0'",
    ),
    # wrong types where a string, an int or a list is expected
    "type_is_a_list": (_text(_with(model_type=["MLP"])), r"'model'.type: unknown model type \["),
    "nin_is_a_bool": (_text(_with(model_nin=True)), "'model'.nin must be a positive integer"),
    "nin_is_a_float": (_text(_with(model_nin=2.0)), "'model'.nin must be a positive integer"),
    "nouts_is_an_object": (_text(_with(model_nouts={"a": 1})), "'model'.nouts must be"),
    "activation_is_null": (_text(_with(model_activation=None)), "'model'.activation must be"),
    "model_is_a_list": (_text(_with(model=[1])), "'model' must be a JSON object, got a list"),
    "unknown_model_key": (_text(_with(model_dropout=0.5)), "unknown key 'dropout' in 'model'"),
    "output_activation_in_v1": (
        _text(_with(version=1, model_output_activation="tanh")),
        "'model'.output_activation needs a version 2 file",
    ),
    # numbers out of range
    "weight_with_5000_digits": (
        json.dumps(_good()).replace('"L0.N0.b": 0.0', '"L0.N0.b": 1' + "0" * 5000),
        "'L0.N0.b' in 'parameters' must be a finite number",
    ),
    "weight_1e999": (
        json.dumps(_good()).replace('"L0.N0.b": 0.0', '"L0.N0.b": 1e999'),
        "'L0.N0.b' in 'parameters' must be a finite number",
    ),
    "weight_is_a_list": (
        json.dumps(_good()).replace('"L0.N0.b": 0.0', '"L0.N0.b": [0.0]'),
        "'L0.N0.b' in 'parameters' must be a finite number",
    ),
    # structure
    "deep_nesting": (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    "deep_nesting_unclosed": (b'{"a": ' + b"[" * 200_000, "nested too deeply|truncated"),
    "duplicate_key": (
        b'{"format": "autograd-lite.nn", "version": 2, "version": 1}',
        "'version' appears twice",
    ),
    "duplicate_parameter": (
        json.dumps(_good()).replace('"L0.N0.b": 0.0', '"L0.N0.b": 0.0, "L0.N0.b": 1.0'),
        "'L0.N0.b' appears twice",
    ),
    "unknown_top_level_key": (_text(_with(comment="hi")), "unknown key 'comment' at the top level"),
    "version_0": (_text(_with(version=0)), "unknown 'version' 0"),
    "version_minus_1": (_text(_with(version=-1)), "unknown 'version' -1"),
    "version_is_a_string": (_text(_with(version="2")), "invalid 'version'"),
    "version_too_new": (_text(_with(version=3)), "newer"),
    "top_level_string": (b'"autograd-lite.nn"', "not an autograd-lite nn model file"),
    "invalid_utf8": (b'{"format": "\xff"}', "not UTF-8 text: byte 0xff"),
    "utf16": ('{"format": 1}'.encode("utf-16"), "not UTF-8"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_file_is_a_value_error_naming_path_and_field(tmp_path, name):
    content, message = HOSTILE[name]
    path = tmp_path / f"{name}.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message) as err:
            nn.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(err.value).startswith(f"{path}: ")
    assert peak < 100 * 2**20, f"{name}: {peak / 2**20:.0f} MB"


def test_limits_are_what_the_errors_name():
    assert serialize.MAX_PARAMETERS == 250_000 and serialize.MAX_BYTES == 16 * 2**20
    assert serialize.MAX_NAME == 64


def test_a_file_bigger_than_the_limit_is_not_read(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as f:  # a sparse 1 GB file: no disk space, no reading
        f.truncate(2**30)
    with pytest.raises(ValueError, match=r"too big.*1,073,741,824 bytes.*MAX_BYTES = 16,777,216"):
        nn.load(path)


def test_a_directory_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match=f"{tmp_path}: not a model file.*directory"):
        nn.load(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_special_files_are_refused_without_blocking(tmp_path, special):
    path = special
    if special == "fifo":
        path = str(tmp_path / "fifo")
        os.mkfifo(path)
    elif not os.path.exists(path):
        pytest.skip("no /dev/zero")
    code = f"import nn\ntry:\n    nn.load({path!r})\nexcept ValueError as e:\n    print(e)\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.stdout.strip() == f"{path}: not a model file (not a regular file)", done.stderr


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    model = nn.MLP(2, [3, 2], seed=4)
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + _text(serialize.to_dict(model)))
    assert [p.data for p in nn.load(path).parameters()] == [p.data for p in model.parameters()]


def test_version_1_files_still_load_as_linear_output(tmp_path):
    data = _good()
    data["version"] = 1
    del data["model"]["output_activation"]
    path = tmp_path / "v1.json"
    path.write_bytes(_text(data))
    assert nn.load(path).output_activation == "linear"


def test_missing_file_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nope.json")


# ---- save: symlinks and signals -------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_save_through_a_symlink_writes_its_target(tmp_path):
    target = tmp_path / "models" / "real.json"
    target.parent.mkdir()
    target.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    model = nn.MLP(2, [3, 1], seed=2)
    nn.save(model, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert nn.load(target).parameters()[0].data == model.parameters()[0].data
    assert sorted(os.listdir(target.parent)) == ["real.json"]


SAVER = textwrap.dedent(
    """
    import sys
    import nn
    models = [nn.MLP(2, [64, 64, 3], seed=s) for s in (1, 2)]
    path = sys.argv[1]
    nn.save(models[0], path)
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        nn.save(models[i % 2], path)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_signal_during_save_leaves_the_old_or_the_new_file(tmp_path, signum):
    path = tmp_path / "m.json"
    expected = [[p.data for p in nn.MLP(2, [64, 64, 3], seed=s).parameters()] for s in (1, 2)]
    for delay in (0.05, 0.13, 0.31):
        saver = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert saver.stdout.readline() == "ready\n"
        time.sleep(delay)
        saver.send_signal(signum)
        saver.wait(timeout=60)
        saver.stdout.close()
        assert [p.data for p in nn.load(path).parameters()] in expected
        leftovers = [p.name for p in tmp_path.iterdir() if p.name != "m.json"]
        if signum == signal.SIGINT:  # KeyboardInterrupt: the temporary file is removed
            assert leftovers == []
        for name in leftovers:  # a killed process may leave its temporary file, never m.json
            assert name.startswith(".m.json.") and name.endswith(".tmp")
            (tmp_path / name).unlink()
