"""``check_derivative``: every correct derivative passes; the usual slips of a hand derivation fail.

Each function of ``CASES`` comes with its correct derivative and the same
derivative with a chain-rule factor forgotten; from the correct one the test
makes a sign error and a factor-of-2 error, and for functions built on σ, the
classic σ' = σ(1 + σ). Kinks and points outside the domain are counted, never
failed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite
from autograd_lite import DerivativeReport, Failure, Value, check_derivative


def s(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def t(x: float) -> float:
    return math.tanh(x)


class Case(NamedTuple):
    name: str
    f: Callable[..., Value]
    df: Callable[..., Any]  # the correct derivative
    no_chain: Callable[..., Any]  # the inner derivative forgotten
    sigma_plus: Callable[..., Any] | None = None  # σ' written as σ(1 + σ)


def _bce(z: Value, y: float = 1.0) -> Value:
    a = z.sigmoid()
    return -(y * a.log() + (1 - y) * (1 - a).log())


CASES = [
    Case(
        "sigmoid(3x)",
        lambda x: (3 * x).sigmoid(),
        lambda x: 3 * s(3 * x) * (1 - s(3 * x)),
        lambda x: s(3 * x) * (1 - s(3 * x)),
        lambda x: 3 * s(3 * x) * (1 + s(3 * x)),
    ),
    Case(
        "tanh(x²)",
        lambda x: (x * x).tanh(),
        lambda x: 2 * x * (1 - t(x * x) ** 2),
        lambda x: 1 - t(x * x) ** 2,
    ),
    Case(
        "log(1 + x²)",
        lambda x: (1 + x**2).log(),
        lambda x: 2 * x / (1 + x**2),
        lambda x: 1 / (1 + x**2),
    ),
    Case(
        "softplus log(1 + e^x)",
        lambda x: (1 + x.exp()).log(),
        lambda x: s(x),
        lambda x: 1 / (1 + math.exp(x)),
    ),
    Case(
        "(2x + 1)³",
        lambda x: (2 * x + 1) ** 3,
        lambda x: 6 * (2 * x + 1) ** 2,
        lambda x: 3 * (2 * x + 1) ** 2,
    ),
    Case(
        "1/(1 + x²)",
        lambda x: 1 / (1 + x * x),
        lambda x: -2 * x / (1 + x * x) ** 2,
        lambda x: -1 / (1 + x * x) ** 2,
    ),
    Case(
        "exp(tanh x)",
        lambda x: x.tanh().exp(),
        lambda x: math.exp(t(x)) * (1 - t(x) ** 2),
        lambda x: math.exp(t(x)),
    ),
    Case(
        "x·σ(x) (swish)",
        lambda x: x * x.sigmoid(),
        lambda x: s(x) + x * s(x) * (1 - s(x)),
        lambda x: s(x) + s(x) * (1 - s(x)),
        lambda x: s(x) + x * s(x) * (1 + s(x)),
    ),
    Case(
        "log σ(x)",
        lambda x: x.sigmoid().log(),
        lambda x: 1 - s(x),
        lambda x: 1 / s(x),
        lambda x: 1 + s(x),  # 1/σ · σ(1 + σ)
    ),
    Case(
        "BCE(σ(z), 1) w.r.t. the logit z",
        _bce,
        lambda z: s(z) - 1,
        lambda z: -1 / s(z),  # ∂J/∂a alone
        lambda z: -(1 + s(z)),  # −1/σ · σ(1 + σ)
    ),
    Case(
        "tanh(w·x + b) w.r.t. x, w, b",
        lambda x, w, b: (w * x + b).tanh(),
        lambda x, w, b: (
            w * (1 - t(w * x + b) ** 2),
            x * (1 - t(w * x + b) ** 2),
            1 - t(w * x + b) ** 2,
        ),
        lambda x, w, b: (1 - t(w * x + b) ** 2,) * 3,
    ),
    Case(
        "σ(x·y) w.r.t. x, y",
        lambda x, y: (x * y).sigmoid(),
        lambda x, y: (y * s(x * y) * (1 - s(x * y)), x * s(x * y) * (1 - s(x * y))),
        lambda x, y: (s(x * y) * (1 - s(x * y)),) * 2,
        lambda x, y: (y * s(x * y) * (1 + s(x * y)), x * s(x * y) * (1 + s(x * y))),
    ),
]
IDS = [case.name for case in CASES]


def scaled(df: Callable[..., Any], c: float) -> Callable[..., Any]:
    def claim(*xs: float) -> Any:
        d = df(*xs)
        return tuple(c * v for v in d) if isinstance(d, tuple) else c * d

    return claim


def test_a_dozen_functions() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_correct_derivative_passes(case: Case) -> None:
    report = check_derivative(case.f, case.df)
    assert report.ok, str(report)
    assert report.checked == 100 and report.skipped == report.kinks == 0
    assert report.failures == () and report.max_error < 1e-12
    assert str(report).startswith("OK: ") and "100 points" in str(report)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_forgotten_chain_rule_factor_fails(case: Case) -> None:
    report = check_derivative(case.f, case.no_chain)
    assert not report.ok
    assert report.failed_points > 50
    text = str(report)
    assert text.startswith("WRONG at ")
    assert "claimed" in text and "automatic" in text


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_sign_error_fails_and_is_named(case: Case) -> None:
    report = check_derivative(case.f, scaled(case.df, -1.0))
    assert not report.ok and report.failed_points == report.checked == 100
    assert "opposite sign" in report.shape
    assert "opposite sign" in str(report).splitlines()[0]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_factor_of_two_fails_and_is_named(case: Case) -> None:
    report = check_derivative(case.f, scaled(case.df, 2.0))
    assert not report.ok and report.failed_points == 100
    assert "off by a constant factor 2 (claimed = 2 × automatic)" in report.shape


@pytest.mark.parametrize("case", [c for c in CASES if c.sigma_plus], ids=lambda c: c.name)
def test_sigma_prime_as_sigma_one_plus_sigma_fails(case: Case) -> None:
    report = check_derivative(case.f, case.sigma_plus)
    assert not report.ok and report.failed_points > 50


def test_failures_say_where_which_input_and_both_numbers() -> None:
    report = check_derivative(lambda x, w: x * w, lambda x, w: (w, 2 * x), n=10)
    assert {f.name for f in report.failures} == {"w"} and {f.input for f in report.failures} == {1}
    for failure in report.failures:
        x, w = failure.point
        assert isinstance(failure, Failure)
        assert failure.claimed == 2 * x and failure.automatic == x
        assert failure.error == failure.claimed - failure.automatic
    assert report.shape == "the claim for w is off by a constant factor 2 (claimed = 2 × automatic)"
    lines = str(report).splitlines()
    assert lines[1].split() == ["x", "w", "input", "claimed", "automatic", "error"]
    worst = report.worst(5)
    assert [abs(f.error) for f in worst] == sorted((abs(f.error) for f in worst), reverse=True)
    assert lines[2].split()[:3] == [f"{worst[0].point[0]:.6g}", f"{worst[0].point[1]:.6g}", "w"]
    assert lines[-1] == "... and 5 more failures"


def test_an_offset_is_named() -> None:
    report = check_derivative(lambda x: x * x, lambda x: 2 * x + 0.5)
    assert report.shape == "the claim is off by a constant (claimed = automatic + 0.5)"


def test_shapes_per_input() -> None:
    report = check_derivative(lambda x, y: x * y, lambda x, y: (-y, 3 * x))
    assert report.shape == (
        "the claim for x is of opposite sign (claimed = −automatic); "
        "the claim for y is off by a constant factor 3 (claimed = 3 × automatic)"
    )


def test_no_shape_when_the_failures_differ() -> None:
    report = check_derivative(lambda x: x.sigmoid(), lambda x: s(x) * (1 + s(x)))
    assert report.shape is None
    assert str(report).splitlines()[0] == "WRONG at 100 of 100 checked points"


def test_kinks_are_counted_not_judged() -> None:
    points = [-1.0, 0.0, 2.0]
    report = check_derivative(lambda x: x.relu(), lambda x: 1.0 if x > 0 else 0.0, points=points)
    assert (report.ok, report.checked, report.kinks, report.skipped) == (True, 2, 1, 0)
    # Any claim at the kink is not judged: relu'(0) does not exist.
    report = check_derivative(lambda x: x.relu(), lambda x: 1.0 if x >= 0 else 0.0, points=points)
    assert report.ok and report.kinks == 1
    # A max anywhere in the graph at its tie: max(x, 1 − x) at x = 0.5; relu inside a sum.
    report = check_derivative(
        lambda x: x.max(1 - x) + (x - 2).relu() * 3,
        lambda x: (1.0 if x > 0.5 else -1.0) + (3.0 if x > 2 else 0.0),
        points=[0.5, 2.0, 1.0, -1.0, 3.0],
    )
    assert (report.ok, report.checked, report.kinks) == (True, 3, 2)
    assert "2 points undefined for the engine (2 kinks) not judged" in str(report)


def test_every_point_a_kink_is_not_ok() -> None:
    report = check_derivative(lambda x: (x - x).relu(), lambda x: 0.0, n=20)
    assert (report.ok, report.checked, report.kinks) == (False, 0, 20)
    assert str(report).startswith("NOT CHECKED")


@pytest.mark.skipif(not hasattr(Value, "abs"), reason="the engine has no abs op yet")
def test_abs_at_zero_is_a_kink() -> None:
    report = check_derivative(lambda x: x.abs(), lambda x: math.copysign(1.0, x), points=[-2, 0, 3])
    assert (report.ok, report.checked, report.kinks) == (True, 2, 1)


def test_kink_table_names_ops_of_the_table() -> None:
    from autograd_lite.derivative import KINKS

    assert {"relu", "max", "abs"} <= set(KINKS)
    assert {"relu", "max"} <= set(autograd_lite.OPS)


def test_points_outside_the_domain_are_skipped_not_failed() -> None:
    report = check_derivative(lambda x: x.log(), lambda x: 1 / x)
    assert report.ok and report.checked + report.skipped == 100
    assert 30 < report.skipped < 70
    assert report.skip_reasons[0][1].startswith("f is undefined (log:")
    # The claim undefined (a division by zero) where f and f' are defined: a failure there.
    report = check_derivative(lambda x: x * x, lambda x: 2 * x**2 / x, points=[0.0, 1.0, -2.0])
    assert (report.ok, report.checked, report.skipped) == (False, 3, 0)
    (failure,) = report.failures
    assert failure.point == (0.0,) and failure.problem.startswith("raises: ")
    assert "raises: float division by zero" in report.table()
    # 1/x at 0: f is undefined.
    report = check_derivative(lambda x: 1 / x, lambda x: -1 / x**2, points=[0.0, 0.5])
    assert (report.checked, report.skipped) == (1, 1)
    assert "1 point skipped (undefined)" in str(report)


def test_nothing_checkable_is_not_ok() -> None:
    report = check_derivative(lambda x: x.log(), lambda x: 1 / x, low=-3.0, high=-1.0, n=10)
    assert not report.ok and report.checked == 0 and report.skipped == 10
    assert str(report).startswith("NOT CHECKED: no point of 10 could be judged")


def test_points_seed_and_range() -> None:
    one = check_derivative(lambda x: x * x, lambda x: 3 * x, n=7, seed=1)
    two = check_derivative(lambda x: x * x, lambda x: 3 * x, n=7, seed=1)
    other = check_derivative(lambda x: x * x, lambda x: 3 * x, n=7, seed=2)
    assert one == two and one.failures != other.failures
    assert all(
        5.0 <= f.point[0] <= 6.0
        for f in check_derivative(lambda x: x * x, lambda x: 3 * x, low=5.0, high=6.0).failures
    )
    given = check_derivative(lambda x, y: x * y, lambda x, y: (y, x), points=[(1, 2), [3.0, 4.0]])
    assert given.ok and given.checked == 2 and given.names == ("x", "y")
    bare = check_derivative(lambda x: x * x, lambda x: 2 * x, points=[1, 2.5])
    assert bare.ok and bare.checked == 2


def test_claims_may_be_values_or_none() -> None:
    report = check_derivative(
        lambda x: x.sigmoid(), lambda x: autograd_lite.sigmoid(x) * 0 + s(x) * (1 - s(x))
    )
    assert report.ok
    report = check_derivative(lambda x, w: x * w, lambda x, w: (w, None))
    assert report.ok and report.unchecked == ("w",)
    assert "no claim for w" in str(report)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, "n must be a positive integer"),
        ({"low": 1.0, "high": 1.0}, ValueError, "low must be below high"),
        ({"high": math.inf}, ValueError, "finite"),
        ({"points": []}, ValueError, "points is empty"),
        ({"points": [(1.0,), (1.0, 2.0)]}, ValueError, "every point needs 1 inputs"),
        ({"points": [math.nan]}, ValueError, "finite"),
        ({"points": ["a"]}, TypeError, "a point must be numbers"),
        ({"rtol": -1}, ValueError, "rtol"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        check_derivative(lambda x: x * x, lambda x: 2 * x, **kwargs)


def test_bad_functions_are_refused() -> None:
    with pytest.raises(TypeError, match="pass points"):
        check_derivative(lambda *xs: xs[0] * xs[0], lambda x: 2 * x)
    with pytest.raises(TypeError, match="df must return 2 numbers"):
        check_derivative(lambda x, y: x * y, lambda x, y: y)
    with pytest.raises(TypeError, match="f must return a Value"):
        check_derivative(lambda x: 3.0, lambda x: 0.0)
    with pytest.raises(TypeError, match="df must return numbers"):
        check_derivative(lambda x: x * x, lambda x: "2x")


def test_report_counts_add_up() -> None:
    report = check_derivative(
        lambda x: (x - 1).relu() * x.log(), lambda x: 0.0, points=[-1.0, 1.0, 0.5, 2.0]
    )
    assert isinstance(report, DerivativeReport)
    assert report.checked + report.skipped + report.kinks == report.points == 4
    assert (report.skipped, report.kinks, report.checked) == (1, 1, 2)
    assert not report.ok  # at x = 2 the derivative is log 2 + 1/2


def test_a_blank_claim_answers_not_yet() -> None:
    report = check_derivative(lambda x: x.exp(), lambda x: None)
    assert not report.ok and report.checked == 0 and report.skipped == 100
    assert str(report) == "NOT YET: df returned None (no claim) at every point"
    report = check_derivative(lambda x, y: x * y, lambda x, y: None, n=5)
    assert str(report).startswith("NOT YET")
    report = check_derivative(lambda x, y: x * y, lambda x, y: (None, None), n=5)
    assert str(report).startswith("NOT YET")


@settings(max_examples=25, deadline=None)
@given(st.floats(-50, 50).filter(lambda c: abs(c - 1) > 1e-3 and abs(c) > 1e-3))
def test_any_constant_factor_is_named(c: float) -> None:
    report = check_derivative(lambda x: x.tanh() * x, lambda x: c * (t(x) + x * (1 - t(x) ** 2)))
    assert not report.ok and report.failed_points == 100
    if abs(c + 1) < 1e-9:
        assert report.shape == "the claim is of opposite sign (claimed = −automatic)"
    else:
        assert (
            report.shape
            == f"the claim is off by a constant factor {c:.6g} (claimed = {c:.6g} × automatic)"
        )
