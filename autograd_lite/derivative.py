"""``check_derivative``: is the derivative you worked out on paper right? Ask the engine.

You give ``f``, a function of k Values written with the engine's operations, and
``df``, your claimed gradient written with plain floats. At each of many points
the engine builds ``f``'s graph, runs reverse mode, and compares
``∂f/∂x_i`` with your claim for every input ``x_i``:

    |claimed − automatic| ≤ atol + rtol·|automatic|

Points where the comparison means nothing are counted, not judged:

- *skipped*: ``f``, its gradient or the claim is undefined there (the log of a
  negative number, a division by zero, an overflow, a NaN or an infinity);
- *kinks*: an op whose derivative jumps (relu, max, abs; the table
  :data:`KINKS`) sits exactly at its tie somewhere in ``f``'s graph, so ``f``
  has no derivative there and the engine's number is only a convention.

The report says OK, or WRONG with the worst points, and when every failure has
one simple shape it names it: the claim is off by a constant factor, has the
opposite sign, or is off by a constant — the usual slips of a hand derivation
(a chain-rule factor forgotten, a minus sign lost, a 2 dropped).

>>> from autograd_lite import check_derivative
>>> report = check_derivative(lambda x: x.sigmoid(), lambda s: 0.25)
>>> report.ok
False
>>> import math
>>> sigma = lambda x: 1 / (1 + math.exp(-x))
>>> check_derivative(lambda x: x.sigmoid(), lambda x: sigma(x) * (1 - sigma(x))).ok
True
"""

from __future__ import annotations

import inspect
import math
import numbers
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .grad import grad
from .value import Value, topological_order

# The ops whose derivative is not defined at a tie of their inputs: op name -> "is this node's
# input exactly at the tie?" (given its parents' data). The engine still returns a number
# there (relu'(0) = 0, abs'(0) = 0, ½ to each side of max), but it is a convention.
KINKS: dict[str, Callable[..., bool]] = {
    "relu": lambda x: x == 0.0,
    "abs": lambda x: x == 0.0,
    "max": lambda x, y: x == y,
}

NO_CLAIM = "no claim (df returned None)"  # why a point is skipped when df says nothing
_SHAPE_MIN_FAILURES = 3  # one or two failures are too few to call a pattern
_SHAPE_RTOL = 1e-6  # how close the ratios (or offsets) must be to call them constant
_TABLE_ROWS = 5


class Failure(NamedTuple):
    """One input at one point where the claim and the automatic derivative disagree."""

    point: tuple[float, ...]  # the inputs (x_1, ..., x_k)
    input: int  # which input: the index of x_i
    name: str  # its name (the parameter's name in f)
    claimed: float
    automatic: float

    @property
    def error(self) -> float:
        """claimed − automatic."""
        return self.claimed - self.automatic


@dataclass(frozen=True)
class DerivativeReport:
    """What :func:`check_derivative` found. ``str(report)`` is a short verdict and table."""

    names: tuple[str, ...]  # the inputs' names, in argument order
    checked: int  # points where every claimed input was compared
    skipped: int  # points where f, its gradient or the claim is undefined
    kinks: int  # points where a relu, max or abs of f's graph sits exactly at its tie
    failures: tuple[Failure, ...]  # every disagreement, in point order
    max_error: float  # the largest |claimed − automatic| over the checked points (0.0 if none)
    unchecked: tuple[str, ...] = ()  # inputs the claim said nothing about (None)
    skip_reasons: tuple[tuple[tuple[float, ...], str], ...] = ()  # (point, why) per skip
    rtol: float = 1e-6
    atol: float = 1e-9

    @property
    def ok(self) -> bool:
        """True when at least one point was checked and no point failed."""
        return self.checked > 0 and not self.failures

    @property
    def points(self) -> int:
        """How many points were drawn or given: checked + skipped + kinks."""
        return self.checked + self.skipped + self.kinks

    @property
    def failed_points(self) -> int:
        """How many distinct points have at least one failure."""
        return len({f.point for f in self.failures})

    @property
    def shape(self) -> str | None:
        """The simple shape every failure shares, in words, or None.

        ``"the claim is off by a constant factor 2 (claimed = 2 × automatic)"``,
        ``"the claim is of opposite sign (claimed = −automatic)"`` or ``"the
        claim is off by a constant (claimed = automatic + 0.5)"``; with several
        inputs, which ones (``"the claim for w is ..."``), one shape per input
        when they fail in different ways.
        """
        by_input = [
            (name, [f for f in self.failures if f.name == name])
            for name in self.names
            if any(f.name == name for f in self.failures)
        ]
        whole = _shape(self.failures)
        if whole is not None:
            if len(self.names) == 1:
                return f"the claim is {whole}"
            return f"the claim for {', '.join(n for n, _ in by_input)} is {whole}"
        if len(by_input) < 2:
            return None
        parts = [(name, _shape(failures)) for name, failures in by_input]
        if any(s is None for _, s in parts):
            return None
        return "; ".join(f"the claim for {name} is {s}" for name, s in parts)

    def worst(self, count: int = _TABLE_ROWS) -> list[Failure]:
        """The ``count`` failures with the largest |claimed − automatic|, worst first."""
        return sorted(self.failures, key=lambda f: -abs(f.error))[:count]

    def verdict(self) -> str:
        """One line: OK or WRONG (or NOT CHECKED, NOT YET), at how many points, and why."""
        counted = _counted(self)
        if self.ok:
            which = _names_text(_checked_names(self))
            line = (
                f"OK: the claimed derivative{' for ' + which if which else ''} matches the "
                f"automatic one at {_plural(self.checked, 'point')} "
                f"(largest error {self.max_error:.1e})"
            )
            return line + (f"; {counted}" if counted else "")
        if (
            self.checked == 0
            and self.skip_reasons
            and all(why == NO_CLAIM for _, why in self.skip_reasons)
        ):
            return "NOT YET: df returned None (no claim) at every point"
        if self.checked == 0:
            line = f"NOT CHECKED: no point of {self.points} could be judged"
            if self.skip_reasons:
                point, why = self.skip_reasons[0]
                counted += f"; e.g. at {_point_text(point)}: {why}"
            return f"{line} ({counted})"
        line = f"WRONG at {self.failed_points} of {_plural(self.checked, 'checked point')}"
        shape = self.shape
        line += f": {shape}" if shape else ""
        return line + (f"; {counted}" if counted else "")

    def table(self, count: int = _TABLE_ROWS) -> str:
        """The worst points as a small table: the inputs, which input, claimed, automatic."""
        header = [*self.names, "input", "claimed", "automatic", "error"]
        rows = [
            [*(f"{x:.6g}" for x in f.point), f.name]
            + [f"{f.claimed:.6g}", f"{f.automatic:.6g}", f"{f.error:.2e}"]
            for f in self.worst(count)
        ]
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        more = len(self.failures) - len(rows)
        if more > 0:
            lines.append(f"... and {_plural(more, 'more failure')}")
        return "\n".join(lines)

    def __str__(self) -> str:
        if not self.failures:
            return self.verdict()
        return f"{self.verdict()}\n{self.table()}"


def check_derivative(
    f: Callable[..., Value],
    df: Callable[..., Any],
    *,
    points: Iterable[Any] | None = None,
    n: int = 100,
    low: float = -3.0,
    high: float = 3.0,
    seed: int = 0,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> DerivativeReport:
    """Compare a claimed gradient ``df`` with the engine's gradient of ``f`` at many points.

    ``f(*xs)`` takes k Values and returns a Value; ``df(*xs)`` takes the same
    k inputs as floats and returns the claimed ∂f/∂x: a float when k = 1,
    else k floats. ``None`` for an input means no claim about it: it is not
    checked; a point where df returns only None is skipped, and when that is
    every point the verdict is "NOT YET" (an exercise left blank).

    ``points`` is an explicit list of input tuples (a plain number is a
    1-tuple); otherwise ``n`` points are drawn uniformly from [low, high]^k
    with ``random.Random(seed)``, k being the number of parameters of ``f``.
    A claim passes at a point when |claimed − automatic| ≤ atol + rtol·|automatic|
    for every input. Points where f, its gradient or the claim is undefined
    (ArithmeticError, ValueError, NaN, infinity) are skipped; points where a
    relu, max or abs of f's graph sits exactly at its tie are counted as kinks.
    """
    names = _input_names(f)
    if points is None:
        if names is None:
            raise TypeError(
                "check_derivative: cannot tell how many inputs f takes (it has *args); "
                "pass points=[(x1, ..., xk), ...]"
            )
        _check_draw(n, low, high)
        rng = random.Random(seed)
        chosen = [tuple(rng.uniform(low, high) for _ in names) for _ in range(n)]
    else:
        chosen = _given_points(points)
        k = len(chosen[0])
        if names is None or len(names) != k:
            names = tuple(f"x{i + 1}" for i in range(k)) if k > 1 else ("x",)
    for tol, label in ((rtol, "rtol"), (atol, "atol")):
        if not (isinstance(tol, numbers.Real) and math.isfinite(tol) and tol >= 0):
            raise ValueError(f"check_derivative: {label} must be a finite number ≥ 0, got {tol!r}")

    checked = kinks = 0
    failures: list[Failure] = []
    skips: list[tuple[tuple[float, ...], str]] = []
    max_error = 0.0
    unchecked: set[int] = set()
    for point in chosen:
        outcome = _judge(f, df, point, names)
        if isinstance(outcome, str):
            if outcome == "kink":
                kinks += 1
            else:
                skips.append((point, outcome))
            continue
        checked += 1
        for i, (claimed, automatic) in enumerate(outcome):
            if claimed is None:
                unchecked.add(i)
                continue
            error = abs(claimed - automatic)
            max_error = max(max_error, error)
            if error > atol + rtol * abs(automatic):
                failures.append(Failure(point, i, names[i], claimed, automatic))
    return DerivativeReport(
        names=names,
        checked=checked,
        skipped=len(skips),
        kinks=kinks,
        failures=tuple(failures),
        max_error=max_error,
        unchecked=tuple(names[i] for i in sorted(unchecked)),
        skip_reasons=tuple(skips),
        rtol=float(rtol),
        atol=float(atol),
    )


def _judge(
    f: Callable[..., Value], df: Callable[..., Any], point: tuple[float, ...], names: Sequence[str]
) -> str | list[tuple[float | None, float]]:
    """ "kink", a reason to skip, or [(claimed, automatic)] per input at one point."""
    xs = [Value(x, label=name) for x, name in zip(point, names)]
    try:
        out = f(*xs)
    except (ArithmeticError, ValueError) as e:
        return f"f is undefined ({_reason(e)})"
    if not isinstance(out, Value):
        raise TypeError(
            f"check_derivative: f must return a Value, got {type(out).__name__} "
            "(build f with the engine's operations on its Value inputs, not with math)"
        )
    if not math.isfinite(out.data):
        return f"f is {out.data!r}"
    if _at_a_kink(out):
        return "kink"
    automatic = [g.data for g in grad(out, xs)]
    if not all(math.isfinite(a) for a in automatic):
        return "the derivative of f is not finite"
    try:
        claim = df(*point)
    except (ArithmeticError, ValueError) as e:
        return f"the claim is undefined ({_reason(e)})"
    claimed = _claims(claim, len(point))
    if all(c is None for c in claimed):
        return NO_CLAIM
    if any(c is not None and not math.isfinite(c) for c in claimed):
        return "the claim is not finite"
    return list(zip(claimed, automatic))


def _at_a_kink(out: Value) -> bool:
    for node in topological_order(out):
        tie = KINKS.get(node.op)
        if tie is not None and tie(*(p.data for p in node.parents)):
            return True
    return False


def _claims(claim: Any, k: int) -> list[float | None]:
    """df's answer as k floats (or None for an input without a claim)."""
    if claim is None:
        return [None] * k
    if k == 1 and not isinstance(claim, (list, tuple)):
        return [_claim_float(claim)]
    if not isinstance(claim, (list, tuple)) or len(claim) != k:
        got = f"{len(claim)} values" if isinstance(claim, (list, tuple)) else repr(claim)
        raise TypeError(f"check_derivative: df must return {k} numbers (one per input), got {got}")
    return [None if c is None else _claim_float(c) for c in claim]


def _claim_float(c: Any) -> float:
    if isinstance(c, Value):
        return c.data
    if isinstance(c, numbers.Real) or getattr(c, "shape", None) == ():
        return float(c)
    raise TypeError(f"check_derivative: df must return numbers, got {c!r} ({type(c).__name__})")


def _input_names(f: Callable[..., Any]) -> tuple[str, ...] | None:
    """The names of f's positional parameters, or None when f takes *args."""
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = tuple(p.name for p in parameters if p.kind in positional and p.default is p.empty)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters) or not names:
        return None
    return names


def _check_draw(n: Any, low: Any, high: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"check_derivative: n must be a positive integer, got {n!r}")
    for bound in (low, high):
        if not (isinstance(bound, numbers.Real) and math.isfinite(bound)):
            raise ValueError(f"check_derivative: low and high must be finite, got {bound!r}")
    if not low < high:
        raise ValueError(f"check_derivative: low must be below high, got [{low}, {high}]")


def _given_points(points: Iterable[Any]) -> list[tuple[float, ...]]:
    chosen = []
    for p in points:
        coords = p if isinstance(p, (list, tuple)) else (p,)
        try:
            point = tuple(float(c) for c in coords)
        except (TypeError, ValueError):
            raise TypeError(f"check_derivative: a point must be numbers, got {p!r}") from None
        if not point or not all(math.isfinite(c) for c in point):
            raise ValueError(f"check_derivative: a point must be finite numbers, got {p!r}")
        if chosen and len(point) != len(chosen[0]):
            raise ValueError(
                f"check_derivative: every point needs {len(chosen[0])} inputs, got {p!r}"
            )
        chosen.append(point)
    if not chosen:
        raise ValueError("check_derivative: points is empty")
    return chosen


def _shape(failures: Sequence[Failure]) -> str | None:
    """The one simple shape all ``failures`` share, in words, or None."""
    if len(failures) < _SHAPE_MIN_FAILURES:
        return None
    if all(f.automatic != 0 for f in failures):
        ratios = [f.claimed / f.automatic for f in failures]
        if _constant(ratios):
            c = sum(ratios) / len(ratios)
            if math.isclose(c, -1.0, rel_tol=_SHAPE_RTOL):
                return "of opposite sign (claimed = −automatic)"
            if abs(c) < _SHAPE_RTOL:
                return "0 where the derivative is not"
            return f"off by a constant factor {c:.6g} (claimed = {c:.6g} × automatic)"
    offsets = [f.error for f in failures]
    if _constant(offsets):
        c = sum(offsets) / len(offsets)
        return f"off by a constant (claimed = automatic {'+' if c > 0 else '−'} {abs(c):.6g})"
    return None


def _constant(values: Sequence[float]) -> bool:
    scale = max(abs(v) for v in values)
    return max(values) - min(values) <= _SHAPE_RTOL * max(scale, 1e-12)


def _reason(e: Exception) -> str:
    return str(e) or type(e).__name__


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _names_text(names: Sequence[str]) -> str:
    return ", ".join(names)


def _checked_names(report: DerivativeReport) -> list[str]:
    return [name for name in report.names if name not in report.unchecked]


def _point_text(point: tuple[float, ...]) -> str:
    inner = ", ".join(f"{x:.6g}" for x in point)
    return inner if len(point) == 1 else f"({inner})"


def _counted(report: DerivativeReport) -> str:
    """'2 points skipped (undefined), 1 kink not judged', or ''."""
    parts = []
    if report.skipped:
        parts.append(f"{_plural(report.skipped, 'point')} skipped (undefined)")
    if report.kinks:
        parts.append(f"{_plural(report.kinks, 'kink')} not judged")
    if report.unchecked:
        parts.append(f"no claim for {_names_text(report.unchecked)}")
    return ", ".join(parts)
