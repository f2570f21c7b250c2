"""Verdicts of check_derivative and ``verify`` that mean the same at every scale (issue 19).

A wrong factor, a wrong sign or a non-negligible constant offset is WRONG whether the
derivative is of size 1e-300 or 1e300; only the function's own undefined points are
skipped; points where the engine's number is not the derivative (kinks, 0·∞) are counted,
not judged; a claim undefined where f is defined fails there.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_lite import check_derivative
from autograd_lite.cli import main
from autograd_lite.cli import verify as verify_command

ROOT = Path(__file__).resolve().parents[1]
MAGNITUDES = [1e-300, 1e-150, 1e-30, 1e-10, 1.0, 1e10, 1e30, 1e150, 1e300]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("m", MAGNITUDES)
def test_wrong_claims_are_wrong_at_every_magnitude(m):
    def f(x):
        return m * x**2

    right = check_derivative(f, lambda x: 2 * m * x)
    assert right.ok, str(right)
    for claim, shape in [
        (lambda x: m * x, "off by a constant factor 0.5"),
        (lambda x: -2 * m * x, "of opposite sign"),
        (lambda x: 2 * m * x + m * 1e-3, "off by a constant (claimed = automatic + "),
        (lambda x: 2 * m * x * 1.000003, "off by a constant factor 1.000003 "),
        (lambda x: 0.0, "0 where the derivative is not"),
    ]:
        report = check_derivative(f, claim)
        assert not report.ok and report.failed_points >= 95, (m, str(report))
        assert shape in report.verdict(), (m, report.verdict())


def test_the_reproducers_of_the_issue():
    # exp(x − 30): a derivative of size 1e-13 .. 1e-12, claimed 0 or with the wrong sign.
    report = check_derivative(lambda x: (x - 30).exp(), lambda x: -math.exp(x - 30))
    assert not report.ok and "of opposite sign" in report.verdict()
    assert not check_derivative(lambda x: (x - 30).exp(), lambda x: 0.0).ok
    assert check_derivative(lambda x: (x - 30).exp(), lambda x: math.exp(x - 30)).ok
    # 1.000003 × the derivative: the factor is printed so that it is not "1".
    report = check_derivative(lambda x: x**2, lambda x: 2.000006 * x)
    assert "factor 1.000003 (claimed = 1.000003 × automatic)" in report.verdict()
    # An offset printed so that it is not "0".
    report = check_derivative(lambda x: x**2, lambda x: 2 * x + 3e-7)
    assert "claimed = automatic + 3e-07" in report.verdict()


def test_atol_absorbs_rounding_near_a_zero_of_the_derivative():
    # sin(x)²: the derivative 2 sin x cos x crosses 0 at x = 0 and ±π/2; computed as
    # sin(2x) the claim differs from the engine's product by rounding only.
    points = [0.0, 1e-12, math.pi / 2, -math.pi / 2, 1.0, 2.5]
    report = check_derivative(lambda x: x.sin() ** 2, lambda x: math.sin(2 * x), points=points)
    assert report.ok, str(report)
    # A derivative that is 0 everywhere: atol is absolute (S = 1).
    report = check_derivative(lambda x: x - x, lambda x: 1e-12)
    assert report.ok and report.scales == (0.0,)
    assert not check_derivative(lambda x: x - x, lambda x: 1e-6).ok


def test_a_claim_undefined_where_f_is_defined_fails_there():
    report = check_derivative(lambda x: x**2, lambda x: 2 * x + 0 * math.log(x))
    assert not report.ok and report.skipped == 0 and report.checked == 100
    assert report.failed_points == sum(1 for f in report.failures if f.problem) > 20
    assert all(f.point[0] <= 0 and f.problem.startswith("raises: ") for f in report.failures)
    assert "undefined (it raises, or is NaN or ±inf) where f and its derivative are finite" in (
        report.verdict()
    )
    # A claim that returns inf (or NaN) wherever it is wrong.
    report = check_derivative(lambda x: x**2, lambda x: 2 * x if x > 0 else math.inf)
    assert not report.ok and {f.problem for f in report.failures} == {"+inf"}
    report = check_derivative(lambda x: x**2, lambda x: 2 * x if x > 0 else math.nan)
    assert not report.ok and {f.problem for f in report.failures} == {"nan"}
    assert " nan " in report.table() or report.table().count("nan") >= 5
    # f's own undefined points are still skipped.
    report = check_derivative(lambda x: x.log(), lambda x: 1 / x)
    assert report.ok and report.skipped > 20


def test_points_where_the_engine_number_is_not_the_derivative_are_not_judged():
    # (x³)^(1/3) = x: at 0 the cube root's slope is ∞, the cube's 0, the engine says 0.
    report = check_derivative(lambda x: (x**3) ** (1 / 3), lambda x: 1.0, points=[0.0, 1.0, 2.0])
    assert report.ok and (report.checked, report.infinite_slopes, report.kinks) == (2, 1, 0)
    assert report.engine_reasons[0][0] == (0.0,)
    assert "0·∞ = 0" in report.engine_reasons[0][1]
    assert "1 point undefined for the engine (1 infinite slope) not judged" in str(report)
    # A kink and an infinite slope together; and only the slopes on the way to an input.
    report = check_derivative(
        lambda x: (x**3) ** (1 / 3) + x.relu(), lambda x: 2.0, points=[0.0, 1.0]
    )
    assert (report.checked, report.undefined_for_engine) == (1, 1)
    report = check_derivative(lambda x: x.relu().sqrt(), lambda x: 0.0, points=[-1.0, -2.0])
    assert report.infinite_slopes == 2  # sqrt's ∞ slope meets relu's 0 on the way to x
    report = check_derivative(lambda x: x * (x - x).sqrt(), lambda x: 0.0, points=[0.0, 1.0])
    assert (report.infinite_slopes, report.skipped) == (1, 1)  # at 1: ∞ − ∞, f's own
    # sqrt at 0 with gradient 1: the derivative itself is infinite, f's own undefined point.
    report = check_derivative(lambda x: x.sqrt(), lambda x: 0.5 / math.sqrt(x), points=[0.0, 4.0])
    assert (report.checked, report.skipped, report.infinite_slopes) == (1, 1, 0)


@pytest.mark.parametrize(("low", "high"), [(-1e308, 1e308), (-1.7e308, 1.7e308), (1e308, 1.7e308)])
def test_points_are_always_inside_the_range(low, high):
    seen = []

    def f(x):
        seen.append(x.data)
        return x * 1.0

    report = check_derivative(f, lambda x: 1.0, low=low, high=high, n=200)
    assert report.ok and len(seen) == 200
    assert all(low <= x <= high and math.isfinite(x) for x in seen)
    assert max(seen) - min(seen) > 0


@pytest.mark.parametrize(
    ("low", "high"), [(1.0, 1.0), (2.0, 1.0), (-math.inf, 1.0), (0.0, math.nan), (0.0, math.inf)]
)
def test_an_unusable_range_is_refused(low, high):
    with pytest.raises(ValueError, match="check_derivative: low"):
        check_derivative(lambda x: x, lambda x: 1.0, low=low, high=high)


# ---- verify -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "verdict"),
    [
        (["exp(x-30)", "--claim", "0"], "WRONG at 100 of 100 checked points: the claim is 0"),
        (["1e-10*x**2", "--claim", "1e-10*x"], "off by a constant factor 0.5"),
        (["exp(x-30)", "--claim=-exp(x-30)"], "the claim is of opposite sign"),
        (["x**2", "--claim", "2*x + 0*log(x)"], "WRONG at 37 of 100 checked points"),
        (["x**2", "--claim", "2.000006*x"], "off by a constant factor 1.000003 "),
        (["1e300*x**2", "--claim", "1e300*(2*x + 1e-6)"], "off by a constant (claimed = "),
    ],
)
def test_verify_reproducers_are_wrong(capsys, argv, verdict):
    code, out, err = run(capsys, "verify", *argv)
    assert (code, err) == (1, ""), out
    assert verdict in out.splitlines()[0]


def test_verify_counts_points_undefined_for_the_engine(capsys):
    code, out, _ = run(capsys, "verify", "(x**3)**(1/3) + relu(x)", "--claim", "2", "--range=0:0")
    assert code == 2  # an empty range
    argv = ["sqrt(relu(x))", "--claim", "0", "--range=-2:-1", "--points", "5"]
    code, out, _ = run(capsys, "verify", *argv)
    assert code == 1 and out.startswith("NOT CHECKED: no point of 5 could be judged")
    assert "5 points undefined for the engine (5 infinite slopes)" in out
    assert "the engine takes 0·∞ = 0" in out


def test_verify_range_within_floats(capsys):
    code, out, _ = run(capsys, "verify", "x", "--claim", "1", "--range=-1e308:1e308")
    assert code == 0 and out.startswith("ok: the claim for x holds at 100 points")


def test_verify_claims_before_expr_each_with_its_own_line(capsys):
    code, out, _ = run(capsys, "verify", "--claim", "2*x", "x**2")
    assert code == 0 and out.startswith("ok: the claim for x holds at 100 points")
    code, out, _ = run(capsys, "verify", "--claim", "w=x", "b=2", "w*x + b")
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith("ok: the claim for w holds at 100 points")
    assert lines[1].startswith("WRONG at 100 of 100 checked points: the claim for b is off by")
    assert lines[-1] == "not checked (no --claim): x"
    # A wrong claim without one shape still names its variable.
    code, out, _ = run(capsys, "verify", "w*x", "--claim", "w=x", "x=w + relu(w - 1)")
    assert code == 1 and "WRONG: the claim for x fails at " in out.splitlines()[1]


def test_verify_work_is_bounded(capsys, monkeypatch):
    expression = "+".join(["x*x"] * 50)  # 199 numbers, names and operations
    claim = "+".join(["2*x"] * 50)
    code, _, err = run(capsys, "verify", expression, "--claim", claim, "--points", "10000")
    assert code == 2
    assert err.strip() == (
        "autograd-lite: error: this check is too big: 10,000 points × 398 numbers, names and "
        "operations (EXPR and the claims) = 3,980,000, more than the limit 1,000,000; "
        "use --points 2,512 or fewer"
    )
    monkeypatch.setattr(verify_command, "MAX_WORK", 400)
    code, _, err = run(capsys, "verify", "x*x", "--claim", "2*x", "--points", "200")
    assert code == 2 and "use --points 66 or fewer" in err
    code, out, _ = run(capsys, "verify", "x*x", "--claim", "2*x", "--points", "66")
    assert code == 0


def test_verify_help_states_the_rule(capsys):
    code, out, _ = run(capsys, "verify", "--help")
    assert code == 0
    for words in ("rtol*|automatic| + atol*S", "typical size", "1e-300", "0*inf = 0", "2*x"):
        assert words in out, words


@pytest.mark.parametrize("name", ["verify.md", "robustness.md"])
def test_docs_examples_print_what_they_say(name):
    """Each ```python block of the page, run alone in a fresh interpreter, prints the
    ```text block that follows it; a console example's output is the CLI's."""
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```\n\nprints\n\n```text\n(.*?)```", text, re.S)
    assert blocks
    for code, expected in blocks:
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
        )
        assert (result.returncode, result.stdout) == (0, expected), result.stderr
    for command, output in re.findall(r"```console\n\$ autograd-lite (.*?)\n(.*?)```", text, re.S):
        result = subprocess.run(
            [sys.executable, "-m", "autograd_lite", *command.split()],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert result.stdout == output
