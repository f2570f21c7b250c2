"""train's outputs are all or none, for real: killed (SIGKILL, SIGTERM) and concurrent runs.

Each run here is a real ``autograd-lite train`` process. A small hook, set up in
the child before ``main`` runs, sends the signal at an exact point (just before
or just after the folder swap, while ``nn.save`` has its temporary file open),
so no test depends on timing. After each, ``--out`` holds every old file or
every new one, never a mixture, and nothing temporary is left beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nn
from autograd_lite import cli
from autograd_lite.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--points", "40", "--hidden", "4", "--epochs", "2", "--no-progress", "--seed", "1"]
OTHER = {"notes.txt": b"mine\n"}  # a file of the user's in --out: it stays
TIMEOUT = 120  # seconds for one child process: a bound, not a measurement


def child(out: Path, hook: str = "", *argv: str, stdin=None) -> subprocess.Popen:
    """``autograd-lite train SMALL --out out`` in a new Python, after running ``hook``."""
    program = textwrap.dedent(
        """
        import os, signal, sys
        import nn, nn.serialize
        from autograd_lite import files
        from autograd_lite.cli import main
        """
    )
    program += textwrap.dedent(hook) + "\nsys.exit(main(sys.argv[1:]))\n"
    args = [sys.executable, "-c", program, "train", *SMALL, *argv, "--out", str(out)]
    return subprocess.Popen(
        args,
        cwd=ROOT,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=TIMEOUT)
    return process.returncode, out, err


def contents(folder: Path) -> dict[str, str]:
    """Name -> sha256 of every entry (hidden ones too)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """Where the reference runs are."""
    return tmp_path_factory.mktemp("reference")


@pytest.fixture(scope="module")
def runs(reference) -> tuple[dict[str, str], dict[str, str]]:
    """The folder's contents after a first run (old) and a second with another seed (new)."""
    base = reference
    sets = []
    for seed in ("1", "2"):
        out = base / f"seed{seed}"
        code, _, err = finish(child(out, "", "--seed", seed))
        assert code == 0, err
        for name, data in OTHER.items():
            (out / name).write_bytes(data)
        sets.append(contents(out))
    old, new = sets
    assert all(old[n] != new[n] for n in ("model.json", "loss.png"))  # the runs differ
    return old, new


@pytest.fixture
def out(tmp_path, runs, reference) -> Path:
    """A folder holding the first run's outputs and the user's notes."""
    old, _ = runs
    out = tmp_path / "out"
    out.mkdir()
    for name in old:
        (out / name).write_bytes((reference / "seed1" / name).read_bytes())
    assert contents(out) == old
    return out


def leftovers(root: Path) -> list[str]:
    """Staging folders and temporary files anywhere under ``root``."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if ".autograd-lite-" in p.name or p.name.endswith((".tmp", ".old"))
    )


KILL_BEFORE_SWAP = """
def swap(new, target):
    os.kill(os.getpid(), signal.SIGKILL)
files.swap_directories = swap
"""
KILL_AFTER_SWAP = """
real = files.swap_directories
def swap(new, target):
    real(new, target)
    os.kill(os.getpid(), signal.SIGKILL)
files.swap_directories = swap
"""
KILL_IN_SAVE = """
def save(model, path):
    os.kill(os.getpid(), signal.SIGKILL)
nn.save = save
"""


@pytest.mark.parametrize(
    ("hook", "expected"),
    [(KILL_IN_SAVE, "old"), (KILL_BEFORE_SWAP, "old"), (KILL_AFTER_SWAP, "new")],
    ids=["while-drawing", "before-swap", "after-swap"],
)
def test_kill_9_leaves_the_old_files_or_the_new_never_a_mixture(out, runs, hook, expected):
    old, new = runs
    code, stdout, _ = finish(child(out, hook, "--seed", "2"))
    assert code == -signal.SIGKILL
    assert contents(out) == {"old": old, "new": new}[expected]
    # A staging folder may remain beside --out (nothing could remove it); the next run
    # removes it, and its own, and leaves the new set.
    code, _, err = finish(child(out, "", "--seed", "2"))
    assert code == 0, err
    assert contents(out) == new
    assert leftovers(out.parent) == []


SIGTERM_IN_SAVE = """
real_fsync = os.fsync
def fsync(fd):  # nn.save's temporary file is written and open: now the signal
    os.kill(os.getpid(), signal.SIGTERM)
    real_fsync(fd)
real_save = nn.save
def save(model, path):
    os.fsync = fsync
    real_save(model, path)
nn.save = save
"""
SIGTERM_IN_FIT = """
real_fit = nn.train.fit
def fit(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
    return real_fit(*args, **kwargs)
nn.train.fit = fit
"""


@pytest.mark.parametrize("hook", [SIGTERM_IN_SAVE, SIGTERM_IN_FIT], ids=["in-save", "in-fit"])
def test_sigterm_leaves_no_temporary_file_and_the_old_outputs(out, runs, hook):
    old, _ = runs
    code, stdout, err = finish(child(out, hook, "--seed", "2"))
    assert code == 128 + signal.SIGTERM
    assert err.strip() == "autograd-lite: terminated"
    assert "wrote" not in stdout
    assert contents(out) == old
    assert leftovers(out.parent) == []


PAUSE_IN_FIT = """
real_fit = nn.train.fit
def fit(*args, **kwargs):
    print("training", flush=True)
    sys.stdin.readline()  # until the test says go on
    return real_fit(*args, **kwargs)
nn.train.fit = fit
"""


def test_a_second_run_on_the_same_folder_fails_in_one_line(out, runs):
    _, new = runs
    first = child(out, PAUSE_IN_FIT, "--seed", "2", stdin=subprocess.PIPE)
    try:
        said = ""
        for said in first.stdout:  # ends at "training" (it holds --out now), or at its exit
            if said == "training\n":
                break
        assert said == "training\n"
        code, stdout, err = finish(child(out, "", "--seed", "3"))
        assert code == 2 and "wrote" not in stdout
        assert err == (
            f"autograd-lite: error: argument --out: another autograd-lite run is writing to "
            f"{out}; wait for it to finish or choose another --out\n"
        )
        first.stdin.write("go\n")
        first.stdin.flush()
        code, _, err = finish(first)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(TIMEOUT)
    assert code == 0, err
    assert contents(out) == new  # the first run's outputs, whole
    assert leftovers(out.parent) == []


# ---- in-process: what the folder may be --------------------------------------------------


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_other_files_stay_the_same_files_and_stale_outputs_go(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    notes = out / "notes.txt"
    notes.write_text("mine\n")
    (out / "link").symlink_to("notes.txt")
    (out / "decision_boundary.png").write_bytes(b"a picture of 2-D data")
    inode = notes.stat().st_ino
    code, _, err = run(capsys, "train", "--dataset", "digits", "--points", "30", "--hidden", "2",
                       "--epochs", "1", "--no-progress", "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert notes.read_text() == "mine\n" and notes.stat().st_ino == inode  # the same file
    assert os.readlink(out / "link") == "notes.txt"
    # No decision boundary for 64-D digits: the old one must not stay beside the new model.
    assert not (out / "decision_boundary.png").exists()
    assert nn.load(out / "model.json").config()["nin"] == 64
    assert leftovers(tmp_path) == []


def test_out_may_not_hold_a_folder_or_be_the_current_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(nn.train, "fit", lambda *a, **k: pytest.fail("trained anyway"))
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    code, stdout, err = run(capsys, "train", *SMALL, "--out", str(out))
    assert (code, stdout) == (2, "")
    assert err == (
        f"autograd-lite: error: argument --out: {out} holds folders or special files (data); "
        "the run swaps in a new folder with its files, so name a folder of plain files or a "
        "new one\n"
    )
    monkeypatch.chdir(out / "data")
    for here in (".", str(out)):
        code, stdout, err = run(capsys, "train", *SMALL, "--out", here)
        assert code == 2 and stdout == "" and len(err.splitlines()) == 1
        assert f"argument --out: {here} is the current directory (or holds it)" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data", "out"]


def test_the_swap_without_an_exchange_call_gives_the_same_folder(tmp_path, capsys, monkeypatch):
    """Where the system cannot exchange two names (not Linux or macOS): two renames."""
    from autograd_lite import files

    monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    code, _, err = run(capsys, "train", *SMALL, "--out", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == sorted([*cli.OUTPUTS, "notes.txt"])
    assert json.loads((out / "model.json").read_text())["format"] == "autograd-lite.nn"
    assert leftovers(tmp_path) == []


# ---- bad settings and data: one line, exit 2 ----------------------------------------------


def test_a_test_fraction_that_leaves_nothing_to_train_on(tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "train", "--points", "10", "--test-fraction", "0.95", "--out", str(out)
    )
    assert (code, stdout) == (2, "")
    assert err == (
        "autograd-lite: error: argument --test-fraction: 0.95 of 10 points holds out 10 and "
        "leaves none to train on; use a smaller --test-fraction or more --points\n"
    )
    assert not out.exists()
    code, _, err = run(capsys, "train", *SMALL[:-2], "--test-fraction", "0.95", "--out", str(out))
    assert code == 0, err  # 40 points: 38 held out, 2 to train on


def test_a_nan_in_the_data_is_named_not_taken_for_divergence(tmp_path, capsys, monkeypatch):
    moons = nn.data.DATASETS["moons"]

    def with_a_nan(n, seed=0):
        X, y = moons(n, seed=seed)
        X[3, 1] = float("nan")
        return X, y

    monkeypatch.setitem(nn.data.DATASETS, "moons", with_a_nan)
    out = tmp_path / "out"
    code, _, err = run(capsys, "train", *SMALL, "--out", str(out))
    assert code == 2
    assert err == (
        "autograd-lite: error: the moons data has a NaN at row 3, column 1: the data must be "
        "finite numbers (a NaN is a missing value: drop or fill it); nothing was written\n"
    )
    assert list(out.iterdir()) == []


def test_fit_names_a_nan_in_x_before_training():
    X, y = nn.data.make_moons(20, seed=0)
    X[5, 0] = float("-inf")
    with pytest.raises(ValueError, match=r"^fit: X has -inf at row 5, column 0: the data must"):
        nn.train.fit(nn.MLP(2, [2], seed=0), X, y, epochs=1, progress=False)
