"""``autograd-lite verify``: exit 0 for a right claim, 1 for a wrong one, 2 for bad input."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_graph import HOSTILE

from autograd_lite.cli import main

ROOT = Path(__file__).resolve().parents[1]
SWISH = ["verify", "x*sigmoid(x)", "--claim", "sigmoid(x)*(1 + x*(1 - sigmoid(x)))"]
NEURON = "tanh(w*x + b)"
DTANH = "(1 - tanh(w*x + b)**2)"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_bad_input(capsys, argv: list[str], reason: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "", (code, out, err)
    last = err.strip().splitlines()[-1]
    assert reason in last, last
    assert "Traceback" not in err
    if last.startswith("autograd-lite: error: "):
        assert len(err.strip().splitlines()) == 1  # our own errors: one line


# ---- right claims: exit 0, one line -------------------------------------------------------


def test_a_right_claim_prints_one_ok_line(capsys):
    code, out, err = run(capsys, *SWISH)
    assert (code, err) == (0, "")
    assert re.fullmatch(
        r"ok: the claim for x holds at 100 points \(largest error \d\.\de-\d\d\)\n", out
    ), out


def test_points_range_and_seed(capsys):
    argv = ["verify", "log(x)", "--claim", "1/x", "--range=0.5:4", "--points", "7", "--seed", "3"]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("ok: the claim for x holds at 7 points")
    code, out, _ = run(capsys, "verify", "log(x)", "--claim", "1/x")
    assert code == 0
    assert re.search(r"holds at (\d+) points .*; (\d+) skipped \(undefined\)", out)
    checked, skipped = map(int, re.findall(r"(\d+) (?:points|skipped)", out))
    assert checked + skipped == 100 and skipped > 20


def test_several_variables_one_claim_each(capsys):
    claims = [f"--claim=x=w*{DTANH}", f"--claim=w=x*{DTANH}", f"--claim=b={DTANH}"]
    code, out, _ = run(capsys, "verify", NEURON, *claims)
    assert code == 0
    assert [line.split(" (")[0] for line in out.splitlines()] == [
        f"ok: the claim for {name} holds at 100 points" for name in ("x", "w", "b")
    ]


def test_a_variable_without_a_claim_is_listed_as_not_checked(capsys):
    code, out, _ = run(capsys, "verify", NEURON, "--claim", f"w=x*{DTANH}")
    assert code == 0
    assert out.splitlines()[0].startswith("ok: the claim for w holds at 100 points")
    assert out.splitlines()[1:] == ["not checked (no --claim): x, b"]


def test_at_fixes_variables_and_checks_the_others(capsys):
    argv = ["verify", NEURON, "--claim", f"w=0.5*{DTANH}", "--at", "x=0.5", "--at", "b=-1"]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("ok: the claim for w holds at 100 points")
    assert "not checked" not in out  # x and b are fixed, not unclaimed
    # With x fixed at 0.5, a claim that uses 0.7 instead is wrong.
    code, out, _ = run(capsys, *argv[:3], f"w=0.7*{DTANH}", *argv[4:])
    assert code == 1 and "constant factor 1.4" in out


def test_kinks_are_counted(capsys):
    code, out, _ = run(capsys, "verify", "relu(x) + max(x, 0.5)", "--claim", "2", "--range=1:2")
    assert code == 0 and "kink" not in out
    code, out, _ = run(capsys, "verify", "relu(x - x) + x", "--claim", "1")
    assert code == 1 and out.startswith("NOT CHECKED") and "100 kinks" in out


# ---- wrong claims: exit 1, the verdict, the worst points, the shape -----------------------


def test_a_wrong_claim_shows_the_worst_points(capsys):
    code, out, err = run(capsys, "verify", "x*sigmoid(x)", "--claim", "sigmoid(x)*(1 + x)")
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("WRONG at ") and "of 100 checked points" in lines[0]
    assert lines[1].split() == ["x", "input", "claimed", "automatic", "error"]
    errors = [abs(float(line.split()[-1])) for line in lines[2:7]]
    assert errors == sorted(errors, reverse=True)
    assert lines[-1].startswith("... and ")


@pytest.mark.parametrize(
    ("claim", "shape"),
    [
        ("-sigmoid(x)*(1 - sigmoid(x))", "of opposite sign (claimed = −automatic)"),
        ("2*sigmoid(x)*(1 - sigmoid(x))", "off by a constant factor 2 (claimed = 2 × automatic)"),
        ("sigmoid(x)*(1 - sigmoid(x)) + 1", "off by a constant (claimed = automatic + 1)"),
    ],
)
def test_the_shape_of_the_error(capsys, claim, shape):
    code, out, _ = run(capsys, "verify", "sigmoid(x)", f"--claim={claim}")
    assert code == 1
    assert out.splitlines()[0] == f"WRONG at 100 of 100 checked points: the claim is {shape}"


def test_a_wrong_claim_among_several(capsys):
    claims = ["--claim", f"w=x*{DTANH}", "--claim", f"b=-{DTANH}", "--at", "x=2"]
    code, out, _ = run(capsys, "verify", NEURON, *claims)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("ok: the claim for w holds at 100 points")  # its own line
    assert lines[1].endswith("the claim for b is of opposite sign (claimed = −automatic)")
    assert {line.split()[2] for line in lines[3:8]} == {"b"}


# ---- bad input: exit 2, one line on stderr, nothing run -----------------------------------


@pytest.mark.parametrize("template, reason", HOSTILE, ids=[h[0][:30] for h in HOSTILE])
def test_hostile_expr_exits_2(tmp_path, capsys, template, reason):
    if template == "x + y":
        pytest.skip("every name of EXPR is a variable of verify")
    marker = tmp_path / "pwned"
    expression = template.replace("{marker}", str(marker)).replace("{{x}}", "{x}")
    assert_bad_input(capsys, ["verify", "--claim", "1", "--", expression], reason)
    assert not marker.exists()


@pytest.mark.parametrize("template, reason", HOSTILE, ids=[h[0][:30] for h in HOSTILE])
def test_hostile_claim_exits_2(tmp_path, capsys, template, reason):
    marker = tmp_path / "pwned"
    claim = template.replace("{marker}", str(marker)).replace("{{x}}", "{x}")
    if template == "x + y":
        reason = "y is not a variable of EXPR (x)"
    assert_bad_input(capsys, ["verify", "x*x", f"--claim=x={claim}"], reason)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["x*y", "--claim", "y"], "say which variable it is for, as in --claim x=EXPR"),
        (["x*y", "--claim", "z=y"], "z is not a variable of EXPR (x, y)"),
        (["x*y", "--claim", "x=y", "--claim", "x=y"], "--claim x=... is given twice"),
        (["x*y", "--claim", "x=y", "--at", "x=1"], "x is fixed by --at"),
        (["x*y", "--claim", "x=y", "--at", "x=1", "--at", "y=2"], "fixes every variable"),
        (["x*y", "--claim", "x=y", "--at", "z=1"], "z is not a variable of EXPR"),
        (["x*y", "--claim", "x=y", "--at", "y=nan"], "must be finite"),
        (["x*y", "--claim", "x=y", "--at", "y"], "expected NAME=VALUE"),
        (["x*y", "--claim", "x=y", "--at", "y=1", "--at", "y=2"], "y is given twice"),
        (["2*3", "--claim", "0"], "no variable to differentiate"),
        (["sigmoid", "--claim", "0"], "sigmoid is a function"),
        (["log(x)", "--claim", "1/x", "--range=-3:-1"], "EXPR is undefined at all 100 points"),
        (["x", "--claim", "log(-x)", "--range=1:2"], "a claim is undefined at all 100 points"),
        (["x**2", "--claim", "2x"], "(write 2*x, not 2x)"),
        (["x**2", "--claim", "2(x)"], "(write 2*(...), not 2(...))"),
        (["exp(x)", "--claim", "e**x"], "for e to the power x write exp(x), not e**x"),
        (["e**x", "--claim", "x=e**x"], "EXPR: e is read as a variable here"),
        (["--claim", "2*x"], "the following arguments are required: EXPR"),
        (["x", "--claim", "1", "--range", "3:1"], "expected LOW:HIGH"),
        (["x", "--claim", "1", "--range", "0:inf"], "expected LOW:HIGH"),
        (["x", "--claim", "1", "--range", "abc"], "expected LOW:HIGH"),
        (["x", "--claim", "1", "--points", "0"], "a number of points from 1 to 10000"),
        (["x", "--claim", "1", "--points", "100000000"], "a number of points from 1 to 10000"),
        (["x", "--claim", "1", "--seed", "-1"], "an integer ≥ 0"),
        (["x"], "the following arguments are required: --claim"),
    ],
)
def test_bad_arguments_exit_2(capsys, argv, reason):
    assert_bad_input(capsys, ["verify", *argv], reason)


def test_help_names_the_command_and_the_derivations(capsys):
    code, out, err = run(capsys, "verify", "--help")
    assert code == 0 and err == "" and out.startswith("usage: autograd-lite verify")
    for word in ("--claim", "--range", "--points", "--at", "--seed", "docs/derivations.md"):
        assert word in out


def test_no_traceback_in_a_real_process():
    """Through the console entry point: bad input is one line on stderr, exit 2."""
    result = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "verify", "x.__class__", "--claim", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert (
        result.stderr.strip() == "autograd-lite: error: EXPR: attribute access (a.b) is not allowed"
    )


def test_a_wrong_claim_still_lists_the_variables_not_checked(capsys):
    code, out, _ = run(capsys, "verify", NEURON, "--claim", f"w=-x*{DTANH}", "--points", "5")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].endswith("the claim for w is of opposite sign (claimed = −automatic)")
    assert lines[1].split() == ["w", "x", "b", "input", "claimed", "automatic", "error"]
    assert lines[-1] == "not checked (no --claim): x, b"
    assert "no claim for" not in out


def test_several_claims_and_bindings_after_one_option(capsys):
    argv = ["verify", NEURON, "--claim", f"w=x*{DTANH}", f"b={DTANH}", "--at", "x=0.5", "b=1"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "b is fixed by --at" in err
    code, out, _ = run(capsys, *argv[:-1])
    assert code == 0 and out.startswith("ok: the claim for w holds at 100 points")
    assert out.splitlines()[1].startswith("ok: the claim for b holds at 100 points")
