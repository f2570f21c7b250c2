"""``autograd-lite demo``, ``train`` and ``check``: run in-process through ``main``.

Small settings keep each run to a second or two; one test trains with train's
defaults on moons and holds them to the ≥ 97% they promise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from network_runs import engine_pass

import nn
import viz
from autograd_lite import cli, topological_order
from autograd_lite.cli import main
from nn import derivations
from viz.style import number

ROOT = Path(__file__).resolve().parents[1]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")
SMALL_TRAIN = ["--points", "40", "--hidden", "4", "--epochs", "2", "--no-progress"]
SMALL_DEMO = ["--points", "30", "--epochs", "1", "--no-progress"]
ACCURACY_LINE = re.compile(r"accuracy: (\d\.\d{3})")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


DRAWN = {"neuron_graph.svg", "backprop.html"}  # the files that need Graphviz's dot


def accuracy_of(out: str) -> float:
    """The ``accuracy: ...`` line's number; only the list of files written may follow it."""
    lines = out.splitlines()
    at = max(i for i, line in enumerate(lines) if ACCURACY_LINE.fullmatch(line))
    assert all(line.startswith(("wrote ", "open ")) for line in lines[at + 1 :]), lines[at:]
    return float(ACCURACY_LINE.fullmatch(lines[at]).group(1))


def assert_outputs(out_dir: Path) -> None:
    """The output files, complete, and nothing else (no temporary file left behind).

    Without Graphviz's ``dot`` the graph and the player are skipped (with a warning).
    """
    has_dot = shutil.which("dot") is not None
    expected = set(cli.OUTPUTS) if has_dot else set(cli.OUTPUTS) - DRAWN
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(expected)
    for name in ("decision_boundary.png", "loss.png"):
        assert (out_dir / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    model = nn.load(out_dir / "model.json")
    assert isinstance(model, nn.MLP)
    if has_dot:
        ET.fromstring((out_dir / "neuron_graph.svg").read_bytes())
        page = (out_dir / "backprop.html").read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and 'class="agl-player"' in page
    page = (out_dir / "network.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'data-autograd-lite="network"' in page


# ---- check ------------------------------------------------------------------------------


def test_check_prints_every_derivation_ok(capsys):
    code, out, err = run(capsys, "check")
    assert code == 0 and err == ""
    lines = out.splitlines()
    for entry in derivations.REGISTRY:
        row = next(line for line in lines if entry.title in line)
        assert row.startswith(entry.section) and row.endswith("  ok")
    assert sum(line.endswith("  ok") for line in lines) == len(derivations.REGISTRY)
    assert "FAIL" not in out
    assert lines[-1] == f"all {len(derivations.REGISTRY)} derivations ok (tolerance 1e-10)"
    assert lines[0].startswith(f"check: the {len(derivations.REGISTRY)} derivations of ")
    assert "docs/derivations.md" in lines[0]


def test_check_shows_each_rows_section_and_its_link(capsys):
    _, out, _ = run(capsys, "check")
    lines = out.splitlines()
    for entry in derivations.REGISTRY:
        section = derivations.SECTIONS[entry.section]
        row = next(i for i, line in enumerate(lines) if entry.title in line)
        # The nearest section line above the row names the row's section and links to it.
        header = next(line for line in reversed(lines[:row]) if "derivations.md#" in line)
        assert header == f"{entry.section} {section.title}: docs/derivations.md#{section.anchor}"
    assert sum("docs/derivations.md#" in line for line in lines) == len(derivations.SECTIONS)


def test_check_help_links_to_the_derivations(capsys):
    code, out, _ = run(capsys, "check", "--help")
    assert code == 0 and "docs/derivations.md" in out


def test_check_exits_1_when_a_derivation_disagrees(capsys, monkeypatch):
    wrong = derivations.Derivation("§1.1", "a wrong closed form", lambda: (np.zeros(2), np.ones(2)))
    monkeypatch.setattr(derivations, "REGISTRY", [*derivations.REGISTRY, wrong])
    code, out, _ = run(capsys, "check")
    assert code == 1
    row = next(line for line in out.splitlines() if "a wrong closed form" in line)
    assert row.endswith("1.0e+00  FAIL")
    assert out.splitlines()[-1].startswith("1 of ")


def test_check_reports_a_broken_entry_as_a_failed_row(capsys, monkeypatch):
    def broken():
        raise ZeroDivisionError("the closed form divides by zero")

    entry = derivations.Derivation("§9", "a broken entry", broken)
    monkeypatch.setattr(derivations, "REGISTRY", [entry, *derivations.REGISTRY])
    code, out, err = run(capsys, "check")
    assert code == 1 and "Traceback" not in out + err
    assert "ZeroDivisionError: the closed form divides by zero" in out
    assert "a broken entry" in out and "FAIL" in out


# ---- train ------------------------------------------------------------------------------


def test_train_prints_the_accuracy_then_the_files_then_where_to_start(tmp_path, capsys):
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "train", *SMALL_TRAIN, "--out", str(out_dir))
    assert code == 0
    assert "Traceback" not in err
    assert 0.0 <= accuracy_of(out) <= 1.0
    assert_outputs(out_dir)
    lines = out.splitlines()
    drawn = [n for n in cli.OUTPUTS if n not in DRAWN or shutil.which("dot")]
    assert [line.split(":")[0] for line in lines[-len(drawn) - 1 : -1]] == [
        f"wrote {out_dir / name}" for name in drawn
    ]
    if shutil.which("dot"):
        assert lines[-1] == f"open {out_dir / 'backprop.html'} in a browser"


def test_the_last_line_names_the_out_folder_as_given(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "train", *SMALL_TRAIN, "--out", "results")
    assert code == 0 and "wrote results/model.json" in out.splitlines()
    if shutil.which("dot"):
        assert out.splitlines()[-1] == "open results/backprop.html in a browser"


def test_train_saves_the_model_it_trained(tmp_path, capsys):
    code, out, _ = run(
        capsys, "train", *SMALL_TRAIN, "--dataset", "blobs", "--out", str(tmp_path), "--seed", "3"
    )
    assert code == 0
    model = nn.load(tmp_path / "model.json")
    assert model.config() == {
        "type": "MLP",
        "nin": 2,
        "nouts": [4, 3],
        "activation": "relu",
        "output_activation": "linear",
    }
    # The accuracy printed is the saved model's accuracy on the same data.
    X, y = nn.data.make_blobs(40, seed=3)
    _, accuracy = nn.train.evaluate(model, X, y)
    assert accuracy_of(out) == float(f"{accuracy:.3f}")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_train_options_reach_the_model(tmp_path, capsys, optimizer):
    argv = ["train", "--dataset", "spirals", "--points", "30", "--hidden", "3,5"]
    argv += ["--activation", "tanh", "--optimizer", optimizer, "--lr", "0.05"]
    argv += ["--epochs", "1", "--batch-size", "7", "--no-progress", "--out", str(tmp_path)]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert f"MLP 2-3-5-3 (tanh), {optimizer} lr=0.05, 1 epochs, batches of 7" in out
    assert nn.load(tmp_path / "model.json").config()["nouts"] == [3, 5, 3]


def test_train_progress_bar_goes_to_stderr(tmp_path, capsys):
    code, out, err = run(capsys, "train", *SMALL_TRAIN[:-1], "--out", str(tmp_path))
    assert code == 0
    assert "train: 100%" in err and "epoch" in err
    assert "%|" not in out


@pytest.mark.slow
def test_train_defaults_reach_97_percent_on_moons(tmp_path, capsys):
    code, out, _ = run(capsys, "train", "--no-progress", "--out", str(tmp_path))
    assert code == 0
    assert accuracy_of(out) >= 0.97


@pytest.mark.slow
def test_demo_learns_real_spirals_to_95_percent(tmp_path, capsys):
    """What make demo promises: spirals of 1.5 turns, learned to ≥ 95% (compiled: seconds)."""
    code, out, _ = run(capsys, "demo", "--no-check", "--no-progress", "--out", str(tmp_path))
    assert code == 0
    assert "spirals: 300 points, 3 classes; MLP 2-16-16-3 (relu), adam lr=0.02, 150 epochs" in out
    assert accuracy_of(out) >= 0.95
    X, y = nn.data.DATASETS[cli.DEMO["dataset"]](cli.DEMO["points"], seed=cli.DEMO["seed"])
    angle = np.unwrap(np.arctan2(*X[y == 0][np.argsort(np.hypot(*X[y == 0].T))].T[::-1]))
    assert abs(angle[-1] - angle[0]) >= 1.4 * 2 * np.pi  # 1.5 turns, less the noise's wobble


def test_choices_match_nn():
    assert set(cli.DATASETS) == set(nn.data.DATASETS)
    assert set(cli.ACTIVATIONS) == set(nn.ACTIVATIONS)
    assert set(cli.train.SHAPES) == {*cli.DATASETS, *cli.train.REAL_DATASETS}


# ---- demo -------------------------------------------------------------------------------


def test_demo_trains_checks_and_writes(tmp_path, capsys):
    code, out, _ = run(capsys, "demo", *SMALL_DEMO, "--out", str(tmp_path))
    assert code == 0
    assert "spirals: 30 points, 3 classes; MLP 2-16-16-3 (relu), adam" in out
    assert "batches of 32, seed 0, compiled\n" in out  # compile by default
    line = next(line for line in out.splitlines() if line.startswith("compile checked"))
    assert re.fullmatch(
        r"compile checked: 3 training steps on 30 points give the same losses on the scalar "
        r"engine \(largest relative difference \d\.\de[-+]\d\d\)",
        line,
    )
    assert float(line.rsplit(" ", 1)[1].rstrip(")")) <= 1e-9
    assert f"all {len(derivations.REGISTRY)} derivations ok" in out
    assert 0.0 <= accuracy_of(out) <= 1.0
    assert_outputs(tmp_path)


def test_demo_scalar_trains_on_the_scalar_engine_to_the_same_model(tmp_path, capsys, monkeypatch):
    engines = []
    fit = nn.train.fit

    def recording_fit(*args, **kwargs):
        engines.append(kwargs.get("compile", False))
        return fit(*args, **kwargs)

    monkeypatch.setattr(nn.train, "fit", recording_fit)
    code, out, _ = run(
        capsys, "demo", *SMALL_DEMO, "--no-check", "--scalar", "--out", str(tmp_path / "s")
    )
    assert code == 0 and engines == [False]
    assert "compiled" not in out and "compile checked" not in out
    code, out, _ = run(capsys, "demo", *SMALL_DEMO, "--no-check", "--out", str(tmp_path / "c"))
    assert code == 0 and engines == [False, False, True, True]  # the check, then training
    scalar, compiled = (nn.load(tmp_path / d / "model.json") for d in ("s", "c"))
    for a, b in zip(scalar.parameters(), compiled.parameters()):
        assert a.data == pytest.approx(b.data, rel=1e-9, abs=1e-12)


def test_demo_stops_when_compile_disagrees_with_the_scalar_engine(tmp_path, capsys, monkeypatch):
    fit = nn.train.fit

    def skewed_fit(*args, **kwargs):
        history = fit(*args, **kwargs)
        if kwargs.get("compile"):
            history.loss[-1] *= 1 + 1e-6
        return history

    monkeypatch.setattr(nn.train, "fit", skewed_fit)
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "demo", *SMALL_DEMO, "--out", str(out_dir))
    assert code == 2 and "wrote" not in out
    last = err.strip().splitlines()
    assert len(last) == 1 and last[0].startswith(
        "autograd-lite: error: compile disagrees with the scalar engine: losses ["
    )
    assert last[0].endswith("in the first 3 steps; run with --scalar and report this")
    assert list(out_dir.iterdir()) == []


def test_demo_no_check_skips_the_table(tmp_path, capsys):
    code, out, _ = run(capsys, "demo", *SMALL_DEMO, "--no-check", "--out", str(tmp_path))
    assert code == 0
    assert "derivations" not in out
    assert_outputs(tmp_path)


def test_demo_exits_1_when_check_fails_but_still_writes(tmp_path, capsys, monkeypatch):
    wrong = derivations.Derivation("§9", "wrong", lambda: (np.zeros(1), np.ones(1)))
    monkeypatch.setattr(derivations, "REGISTRY", [wrong])
    code, out, _ = run(capsys, "demo", *SMALL_DEMO, "--out", str(tmp_path))
    assert code == 1 and "1 of 1 derivations FAIL" in out
    assert_outputs(tmp_path)


def test_demo_defaults_are_the_documented_ones():
    args = cli.build_parser().parse_args(["demo"])
    assert (args.out, args.points, args.epochs) == ("autograd-lite-out", None, None)
    assert cli.DEMO["dataset"] == "spirals" and cli.DEMO["optimizer"] == "adam"


def _train_recording_history(capsys, monkeypatch, tmp_path, *argv: str):
    """Run ``train`` and keep the History that fit returned; (exit code, stdout, history)."""
    histories = []
    fit = nn.train.fit

    def recording_fit(*args, **kwargs):
        histories.append(fit(*args, **kwargs))
        return histories[-1]

    monkeypatch.setattr(nn.train, "fit", recording_fit)
    code, out, _ = run(capsys, "train", *argv, "--out", str(tmp_path))
    return code, out, histories[0]


def test_train_names_the_last_epoch_and_the_final_loss(tmp_path, capsys, monkeypatch):
    argv = ("--points", "60", "--hidden", "6", "--epochs", "3", "--no-progress", "--seed", "2")
    code, out, history = _train_recording_history(capsys, monkeypatch, tmp_path, *argv)
    assert code == 0
    lines = out.splitlines()
    # The last epoch: means over its mini-batches, as fit recorded them.
    assert lines[2] == (
        f"last epoch (mean over its batches): loss {number(history.loss[-1])}, "
        f"accuracy {history.accuracy[-1]:.1%}"
    )
    # After training: the saved model on the whole data set.
    X, y = nn.data.make_moons(60, seed=2)
    loss, accuracy = nn.train.evaluate(nn.load(tmp_path / "model.json"), X, y)
    after = f"after training (all 60 training points): loss {number(loss)}"
    assert lines[3] == f"{after}, accuracy {accuracy:.1%}"
    assert re.fullmatch(r"trained in \d+\.\d s", lines[1])


@needs_dot
def test_network_neuron_graph_and_backprop_show_the_worst_point_and_its_busiest_neuron(
    tmp_path, capsys
):
    argv = ("--points", "40", "--hidden", "5,3", "--epochs", "2", "--seed", "4")
    code, out, _ = run(capsys, "train", *argv, "--no-progress", "--out", str(tmp_path))
    assert code == 0
    lines = {
        name: next(line for line in out.splitlines() if f"{name}:" in line)
        for name in ("network.html", "neuron_graph.svg", "backprop.html")
    }
    match = re.fullmatch(
        rf"wrote {re.escape(str(tmp_path / 'neuron_graph.svg'))}: neuron (L0\.N\d) \(relu, the "
        r"first hidden layer's largest \|∂L/∂z\|\) on training point (\d+) \(class (\d)\), "
        r"the largest loss after training: L = (\S+)",
        lines["neuron_graph.svg"],
    )
    assert match, lines["neuron_graph.svg"]
    label, index = match.group(1), int(match.group(2))
    X, y = nn.data.make_moons(40, seed=4)
    model = nn.load(tmp_path / "model.json")
    params = [p.data for p in model.parameters()]
    passes = [engine_pass(model, params, x, t) for x, t in zip(X, y)]
    assert index == max(range(len(X)), key=lambda i: passes[i]["loss"])
    assert int(match.group(3)) == y[index] and match.group(4) == number(passes[index]["loss"], 4)
    deltas = {n.name: abs(passes[index]["delta"][n.name]) for n in model.layers[0].neurons}
    assert deltas[label] == max(deltas.values())
    assert f"training point {index} (class {y[index]})" in lines["network.html"]
    assert f"neuron {label}" in lines["backprop.html"]
    # Every weight on the picture: its trained value and this point's ∂L/∂w, as backward gives.
    svg = ET.fromstring((tmp_path / "neuron_graph.svg").read_bytes())
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    for p in model.parameters():
        if p.label.startswith(label + "."):
            at = texts.index(p.label)
            assert texts[at + 1] == f"data {number(p.data)}"
            assert texts[at + 2] == f"grad {number(passes[index]['grad'][p.label])}"
    page = (tmp_path / "backprop.html").read_text(encoding="utf-8")
    assert 'class="agl-player"' in page and f"{label}.w0" in page
    assert 'data-autograd-lite="network"' in (tmp_path / "network.html").read_text("utf-8")


def test_neuron_example_values():
    o = cli.neuron_example()
    assert o.data == pytest.approx(2**-0.5)
    leaves = {v.label: v.grad for v in topological_order(o) if not v.parents}
    assert leaves == pytest.approx({"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5})


def test_missing_dot_skips_only_the_graph(tmp_path, capsys, monkeypatch):
    def no_dot(*args, **kwargs):
        raise viz.DotNotFoundError()

    monkeypatch.setattr(viz, "save", no_dot)
    code, out, err = run(capsys, "demo", *SMALL_DEMO, "--no-check", "--out", str(tmp_path))
    assert code == 0
    assert "warning: skipped" in err and "neuron_graph.svg" in err and "graphviz" in err.lower()
    assert "backprop.html" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(cli.OUTPUTS) - DRAWN)


# ---- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["train", "--hidden", "16,x"], "argument --hidden: expected comma-separated positive"),
        (["train", "--hidden", "16,0"], "argument --hidden"),
        (["train", "--hidden", ""], "argument --hidden"),
        (["train", "--lr", "-1"], "argument --lr: expected a positive number, got '-1'"),
        (["train", "--lr", "0"], "argument --lr"),
        (["train", "--lr", "nan"], "argument --lr"),
        (["train", "--lr", "fast"], "argument --lr"),
        (["train", "--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
        (["train", "--epochs", "2.5"], "argument --epochs"),
        (["train", "--batch-size", "-4"], "argument --batch-size"),
        (["train", "--points", "3"], "argument --points: expected at least 10 points"),
        (["train", "--seed", "-1"], "argument --seed"),
        (["train", "--dataset", "mnist"], "argument --dataset: invalid choice: 'mnist'"),
        (["train", "--activation", "gelu"], "argument --activation: invalid choice"),
        (["train", "--optimizer", "rmsprop"], "argument --optimizer: invalid choice"),
        (["train", "--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["demo", "--epochs", "0"], "argument --epochs"),
        (["demo", "extra"], "unrecognized arguments: extra"),
        (["check", "--verbose"], "unrecognized arguments: --verbose"),
        (["fly"], "invalid choice: 'fly'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_arguments_exit_2_and_say_what(tmp_path, capsys, argv, reason):
    out_dir = tmp_path / "out"
    extra = ["--out", str(out_dir)] if argv[:1] in (["train"], ["demo"]) else []
    code, out, err = run(capsys, *argv, *extra)
    assert code == 2
    assert out == ""
    assert reason in err.strip().splitlines()[-1]
    assert "Traceback" not in err
    assert not out_dir.exists()


@pytest.mark.parametrize("command", ["train", "demo"])
def test_unwritable_out_exits_2_before_training(tmp_path, capsys, monkeypatch, command):
    (tmp_path / "a-file").write_text("user data\n")
    monkeypatch.setattr(nn.train, "fit", lambda *a, **k: pytest.fail("trained anyway"))
    code, out, err = run(capsys, command, "--out", str(tmp_path / "a-file" / "sub"))
    assert code == 2 and out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("autograd-lite: error: argument --out: cannot write to ")
    assert "a-file/sub" in last and "Traceback" not in err
    assert (tmp_path / "a-file").read_text() == "user data\n"


@pytest.mark.parametrize(
    ("out", "reason"),
    [("", "expected a directory name, got ''"), ("a-file", "a-file is a file, not a directory")],
)
def test_out_must_be_a_directory(tmp_path, capsys, monkeypatch, out, reason):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("user data\n")
    code, stdout, err = run(capsys, "train", "--out", out)
    assert code == 2 and stdout == ""
    assert err.strip().splitlines()[-1] == f"autograd-lite: error: argument --out: {reason}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    assert (tmp_path / "a-file").read_text() == "user data\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only directory")
def test_read_only_out_exits_2(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        code, _, err = run(capsys, "train", "--out", str(locked))
    finally:
        locked.chmod(0o700)
    assert code == 2 and "argument --out: cannot write to" in err.splitlines()[-1]


# ---- files are written atomically, nothing a user saved is lost ----------------------------


def test_existing_files_survive_a_failed_write(tmp_path, capsys, monkeypatch):
    """If a rename fails, the old file is intact and no temporary file is left."""
    (tmp_path / "notes.txt").write_text("mine\n")
    (tmp_path / "decision_boundary.png").write_bytes(b"old picture")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    code, out, err = run(capsys, "train", *SMALL_TRAIN, "--out", str(tmp_path))
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"autograd-lite: error: cannot write {tmp_path / 'decision_boundary.png'}: "
        "No space left on device"
    )
    assert (tmp_path / "decision_boundary.png").read_bytes() == b"old picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decision_boundary.png", "notes.txt"]


def test_rerun_replaces_outputs_and_keeps_other_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine\n")
    (tmp_path / "model.json").write_text("{}")
    assert run(capsys, "train", *SMALL_TRAIN, "--out", str(tmp_path))[0] == 0
    assert (tmp_path / "notes.txt").read_text() == "mine\n"
    assert json.loads((tmp_path / "model.json").read_text())["format"] == "autograd-lite.nn"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_interrupt_exits_130_without_traceback(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(nn.train, "fit", interrupted)
    code, _, err = run(capsys, "train", "--out", str(tmp_path))
    assert code == 130 and err.strip() == "autograd-lite: interrupted"
    assert list(tmp_path.iterdir()) == []


# ---- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["demo"], ["train"], ["check"], ["graph"], ["verify"]])
def test_help_everywhere(capsys, command):
    code, out, err = run(capsys, *command, "--help")
    assert code == 0 and err == ""
    assert out.startswith("usage: autograd-lite")


def test_train_help_lists_the_choices(capsys):
    _, out, _ = run(capsys, "train", "--help")
    for word in ("moons,spirals,blobs", "adam,sgd", "--batch-size", "--no-progress", "16,16"):
        assert word in out


def test_python_m_autograd_lite_help():
    result = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr == ""
    for command in ("demo", "train", "check", "graph", "verify"):
        assert command in result.stdout
