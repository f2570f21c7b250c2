"""``check_derivative``: is the derivative you worked out on paper right? Ask the engine.

You give ``f``, a function of k Values written with the engine's operations, and
``df``, your claimed gradient written with plain floats. At each of many points
the engine builds ``f``'s graph, runs reverse mode, and compares
``∂f/∂x_i`` with your claim for every input ``x_i``. The verdict is relative to
the derivative's own size, so it means the same at every magnitude (1e-300 or
1e300): with ``S_i`` the typical size of ``∂f/∂x_i`` (the median of its
magnitude over the checked points), a claim passes at a point when

    |claimed − automatic| ≤ rtol·|automatic| + atol·S_i

``rtol`` bounds the relative error; ``atol`` (a fraction of ``S_i``) only
absorbs rounding near a zero *of the derivative*. A claim off by a constant
factor other than 1 (beyond rtol), of the opposite sign, or off by a constant
that is not negligible against ``S_i`` is WRONG however small or large the
derivative is. (When the derivative is exactly 0 at every checked point, S_i
is taken as 1: atol is then absolute.)

Points where the comparison means nothing are counted, not judged:

- *skipped*: ``f`` or its gradient is undefined there (the log of a negative
  number, a division by zero, an overflow, a NaN or an infinity): the
  function's own undefined points;
- *undefined for the engine*: the engine returns a number that is not the
  derivative. Either a *kink*: an op whose derivative jumps (relu, max, abs;
  the table :data:`KINKS`) sits exactly at its tie, so the number is a
  convention; or an *infinite slope*: the backward pass met an infinite local
  derivative and applied its rule 0·∞ = 0 (``(x**3)**(1/3)`` at 0: the slope of
  the cube root is ∞ there, the cube's is 0, the engine says 0, the derivative
  is 1).

A claim that raises, is NaN or is ±inf where ``f`` and its derivative are
finite is not skipped: it fails at that point.

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

import dataclasses
import inspect
import math
import numbers
import random
import statistics
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
KINK = "kink"  # a relu, max or abs of f's graph sits exactly at its tie
INFINITE_SLOPE = "infinite slope"  # the backward pass used 0·∞ = 0 on the way to an input
_SHAPE_MIN_FAILURES = 3  # one or two failures are too few to call a pattern
_SHAPE_RTOL = 1e-6  # how close the ratios (or offsets) must be to call them constant
_TABLE_ROWS = 5


class Failure(NamedTuple):
    """One input at one point where the claim and the automatic derivative disagree.

    ``problem`` is empty when the claim is a wrong number; otherwise it says
    how the claim is undefined where f and its derivative are finite (it
    raised, or it is NaN or ±inf), and ``claimed`` is NaN or the infinity.
    """

    point: tuple[float, ...]  # the inputs (x_1, ..., x_k)
    input: int  # which input: the index of x_i
    name: str  # its name (the parameter's name in f)
    claimed: float
    automatic: float
    problem: str = ""  # "" for a wrong number, else what went wrong with the claim

    @property
    def error(self) -> float:
        """claimed − automatic (NaN when the claim raised)."""
        return self.claimed - self.automatic


@dataclass(frozen=True)
class DerivativeReport:
    """What :func:`check_derivative` found. ``str(report)`` is a short verdict and table."""

    names: tuple[str, ...]  # the inputs' names, in argument order
    checked: int  # points where every claimed input was compared
    skipped: int  # points where f or its gradient is undefined (or df said nothing)
    kinks: int  # points where a relu, max or abs of f's graph sits exactly at its tie
    failures: tuple[Failure, ...]  # every disagreement, in point order
    max_error: float  # the largest finite |claimed − automatic| over the checked points
    unchecked: tuple[str, ...] = ()  # inputs the claim said nothing about (None)
    skip_reasons: tuple[tuple[tuple[float, ...], str], ...] = ()  # (point, why) per skip
    rtol: float = 1e-6
    atol: float = 1e-9
    infinite_slopes: int = 0  # points where the backward pass used 0·∞ = 0 (not judged)
    engine_reasons: tuple[tuple[tuple[float, ...], str], ...] = ()  # (point, why) per such
    scales: tuple[float, ...] = ()  # S_i, each input's typical |∂f/∂x_i| (0.0 if unchecked)
    max_errors: tuple[float, ...] = ()  # the largest finite |claimed − automatic| per input

    @property
    def ok(self) -> bool:
        """True when at least one point was checked and no point failed."""
        return self.checked > 0 and not self.failures

    @property
    def undefined_for_engine(self) -> int:
        """Points where the engine's number is not the derivative: kinks + infinite slopes."""
        return self.kinks + self.infinite_slopes

    @property
    def points(self) -> int:
        """How many points were drawn or given: checked + skipped + undefined for the engine."""
        return self.checked + self.skipped + self.undefined_for_engine

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
        when they fail in different ways. Factors and offsets are printed with
        as many digits as it takes to tell them from 1 and 0 (1.000003, not 1).
        """
        by_input = [
            (name, [f for f in self.failures if f.name == name])
            for name in self.names
            if any(f.name == name for f in self.failures)
        ]
        whole = _shape(self.failures, self.rtol)
        if whole is not None:
            if len(self.names) == 1:
                return f"the claim is {whole}"
            return f"the claim for {', '.join(n for n, _ in by_input)} is {whole}"
        if len(by_input) < 2:
            return None
        parts = [(name, _shape(failures, self.rtol)) for name, failures in by_input]
        if any(s is None for _, s in parts):
            return None
        return "; ".join(f"the claim for {name} is {s}" for name, s in parts)

    def for_input(self, name: str) -> DerivativeReport:
        """This report restricted to the claim for one input (the others count as unchecked)."""
        i = self.names.index(name)
        others = tuple(n for n in self.names if n != name)
        return dataclasses.replace(
            self,
            failures=tuple(f for f in self.failures if f.input == i),
            max_error=self.max_errors[i] if i < len(self.max_errors) else self.max_error,
            unchecked=others,
        )

    def worst(self, count: int = _TABLE_ROWS) -> list[Failure]:
        """The ``count`` worst failures: undefined claims first, then by |claimed − automatic|."""
        return sorted(
            self.failures, key=lambda f: -abs(f.error) if f.claimed == f.claimed else -math.inf
        )[:count]

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
            example = (self.skip_reasons or self.engine_reasons)[:1]
            for point, why in example:
                counted += f"; e.g. at {_point_text(point, self.names)}: {why}"
            return f"{line}: {counted}"
        line = f"WRONG at {self.failed_points} of {_plural(self.checked, 'checked point')}"
        shape = self.shape
        line += f": {shape}" if shape else ""
        return line + (f"; {counted}" if counted else "")

    def table(self, count: int = _TABLE_ROWS) -> str:
        """The worst points as a small table: the inputs, which input, claimed, automatic."""
        header = [*self.names, "input", "claimed", "automatic", "error"]
        rows = [
            [*(f"{x:.6g}" for x in f.point), f.name]
            + [
                _clip(f.problem) if f.problem else f"{f.claimed:.6g}",
                f"{f.automatic:.6g}",
                "-" if f.problem else f"{f.error:.2e}",
            ]
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
    every point the verdict is "NOT YET" (an exercise left blank). An
    ArithmeticError or ValueError instance in place of a number says that the
    claim for that input raised it (so one undefined claim among several fails
    alone).

    ``points`` is an explicit list of input tuples (a plain number is a
    1-tuple); otherwise ``n`` points are drawn uniformly from [low, high]^k
    with ``random.Random(seed)``, k being the number of parameters of ``f``
    (always inside [low, high], even for ``low=-1e308, high=1e308``; a range
    that is not two finite numbers with low < high raises ValueError).

    With ``S_i`` the median of |∂f/∂x_i| over the checked points (1 when it
    is 0 at all of them), the claim passes at a point when, for every input,

        |claimed − automatic| ≤ rtol·|automatic| + atol·S_i

    so a wrong factor, a wrong sign or a non-negligible constant offset fails
    at every magnitude; atol only absorbs rounding near a zero of the
    derivative. Points where f or its gradient is undefined (ArithmeticError,
    ValueError, NaN, infinity) are skipped; points where the engine's number
    is not the derivative (a relu, max or abs exactly at its tie; an infinite
    local derivative met by the 0·∞ = 0 rule) are counted, not judged. A claim
    that raises (ArithmeticError, ValueError) or is NaN or ±inf where f and
    its derivative are finite fails there.
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
        chosen = [tuple(_uniform(rng, low, high) for _ in names) for _ in range(n)]
    else:
        chosen = _given_points(points)
        k = len(chosen[0])
        if names is None or len(names) != k:
            names = tuple(f"x{i + 1}" for i in range(k)) if k > 1 else ("x",)
    for tol, label in ((rtol, "rtol"), (atol, "atol")):
        if not (isinstance(tol, numbers.Real) and math.isfinite(tol) and tol >= 0):
            raise ValueError(f"check_derivative: {label} must be a finite number ≥ 0, got {tol!r}")

    counts = {KINK: 0, INFINITE_SLOPE: 0}
    skips: list[tuple[tuple[float, ...], str]] = []
    engine: list[tuple[tuple[float, ...], str]] = []
    judged: list[tuple[tuple[float, ...], list[tuple[float | str | None, float]]]] = []
    for point in chosen:
        outcome = _judge(f, df, point, names)
        if isinstance(outcome, tuple):  # (KINK or INFINITE_SLOPE, why)
            counts[outcome[0]] += 1
            engine.append((point, outcome[1]))
        elif isinstance(outcome, str):
            skips.append((point, outcome))
        else:
            judged.append((point, outcome))

    k = len(names)
    scales = tuple(
        _typical([abs(a) for _, pairs in judged for c, a in pairs[i : i + 1] if c is not None])
        for i in range(k)
    )
    failures: list[Failure] = []
    max_errors = [0.0] * k
    unchecked: set[int] = set()
    for point, pairs in judged:
        for i, (claimed, automatic) in enumerate(pairs):
            if claimed is None:
                unchecked.add(i)
                continue
            if isinstance(claimed, str):  # the claim raised
                failures.append(Failure(point, i, names[i], math.nan, automatic, claimed))
                continue
            if not math.isfinite(claimed):
                problem = "nan" if claimed != claimed else f"{claimed:+}"
                failures.append(Failure(point, i, names[i], claimed, automatic, problem))
                continue
            error = abs(claimed - automatic)
            max_errors[i] = max(max_errors[i], error)
            scale = scales[i] or 1.0
            if error > rtol * abs(automatic) + atol * scale:
                failures.append(Failure(point, i, names[i], claimed, automatic))
    return DerivativeReport(
        names=names,
        checked=len(judged),
        skipped=len(skips),
        kinks=counts[KINK],
        failures=tuple(failures),
        max_error=max(max_errors, default=0.0),
        unchecked=tuple(names[i] for i in sorted(unchecked)),
        skip_reasons=tuple(skips),
        rtol=float(rtol),
        atol=float(atol),
        infinite_slopes=counts[INFINITE_SLOPE],
        engine_reasons=tuple(engine),
        scales=scales,
        max_errors=tuple(max_errors),
    )


def _typical(sizes: list[float]) -> float:
    """S: the median of the derivative's magnitudes; its largest if the median is 0; else 0."""
    if not sizes:
        return 0.0
    middle = statistics.median(sizes)
    return middle if middle > 0 else max(sizes)


def _uniform(rng: random.Random, low: float, high: float) -> float:
    """A uniform draw from [low, high], inside it even when high − low overflows."""
    u = rng.random()
    width = high - low
    x = low + width * u if math.isfinite(width) else low * (1.0 - u) + high * u
    return min(max(x, low), high)


def _judge(
    f: Callable[..., Value], df: Callable[..., Any], point: tuple[float, ...], names: Sequence[str]
) -> str | tuple[str, str] | list[tuple[float | str | None, float]]:
    """At one point: a reason to skip; (KINK or INFINITE_SLOPE, why) where the engine's
    number is not the derivative; or [(claimed, automatic)] per input, where claimed is
    a float, None (no claim) or, when the claim raised, the text of the error."""
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
    order = topological_order(out)
    kink = _kink(order)
    if kink is not None:
        return (KINK, kink)
    every = dict(zip(order, (g.data for g in grad(out, order))))
    automatic = [every.get(x, 0.0) for x in xs]
    if not all(math.isfinite(a) for a in automatic):
        return "the derivative of f is not finite"
    gap = _zero_times_infinity(order, every, xs)
    if gap is not None:
        return (INFINITE_SLOPE, gap)
    try:
        claim = df(*point)
    except (ArithmeticError, ValueError) as e:
        return [(f"raises: {_reason(e)}", a) for a in automatic]
    claimed = _claims(claim, len(point))
    if all(c is None for c in claimed):
        return NO_CLAIM
    return list(zip(claimed, automatic))


def _kink(order: Sequence[Value]) -> str | None:
    """Which op of the graph sits exactly at its tie, in words, or None."""
    for node in order:
        tie = KINKS.get(node.op)
        if tie is not None and tie(*(p.data for p in node.parents)):
            return f"a kink: {node.op} at its tie"
    return None


def _zero_times_infinity(
    order: Sequence[Value], grads: dict[Value, float], xs: Sequence[Value]
) -> str | None:
    """Where the backward pass applied 0·∞ = 0 on a path to an input, in words, or None.

    There the engine's number is not the derivative: a zero gradient met an
    infinite local derivative, or an infinite (or NaN) gradient a zero one.
    """
    depends = set(xs)  # the nodes that depend on an input
    for node in order:
        parents = node.parents
        if parents and any(p in depends for p in parents):
            depends.add(node)
    for node in order:
        g = grads.get(node, 0.0)
        for parent, slope in zip(node.parents, (node._da, node._db)):
            if parent not in depends:
                continue
            if (g == 0 and math.isinf(slope)) or (slope == 0 and not math.isfinite(g)):
                return (
                    f"an infinite slope: {node.op}'s local derivative {slope:g} met "
                    f"the gradient {g:g} (the engine takes 0·∞ = 0)"
                )
    return None


def _claims(claim: Any, k: int) -> list[float | str | None]:
    """df's answer as k floats (or None for an input without a claim)."""
    if claim is None:
        return [None] * k
    if k == 1 and not isinstance(claim, (list, tuple)):
        return [_claim_float(claim)]
    if not isinstance(claim, (list, tuple)) or len(claim) != k:
        got = f"{len(claim)} values" if isinstance(claim, (list, tuple)) else repr(claim)
        raise TypeError(f"check_derivative: df must return {k} numbers (one per input), got {got}")
    return [None if c is None else _claim_float(c) for c in claim]


def _claim_float(c: Any) -> float | str:
    if isinstance(c, (ArithmeticError, ValueError)):  # this input's claim raised
        return f"raises: {_reason(c)}"
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


def _shape(failures: Sequence[Failure], rtol: float = _SHAPE_RTOL) -> str | None:
    """The one simple shape all ``failures`` share, in words, or None."""
    if len(failures) < _SHAPE_MIN_FAILURES:
        return None
    if all(f.problem for f in failures):
        return "undefined (it raises, or is NaN or ±inf) where f and its derivative are finite"
    if any(f.problem for f in failures):
        return None
    if all(f.automatic != 0 for f in failures):
        ratios = [f.claimed / f.automatic for f in failures]
        if _constant(ratios):
            c = sum(ratios) / len(ratios)
            if abs(c + 1.0) <= max(rtol, 4 * _EPS):
                return "of opposite sign (claimed = −automatic)"
            if abs(c) < _SHAPE_RTOL:
                return "0 where the derivative is not"
            factor = _distinct(c, 1.0)
            return f"off by a constant factor {factor} (claimed = {factor} × automatic)"
    offsets = [f.error for f in failures]
    if _constant(offsets):
        c = sum(offsets) / len(offsets)
        sign = "+" if c > 0 else "−"
        return f"off by a constant (claimed = automatic {sign} {_distinct(abs(c), 0.0)})"
    return None


_EPS = 2.0**-52


def _distinct(c: float, near: float) -> str:
    """``c`` in 6 significant digits, or as many more as it takes not to read as ``near``."""
    for digits in range(6, 18):
        text = f"{c:.{digits}g}"
        if float(text) != near:
            return text
    return repr(c)


def _constant(values: Sequence[float]) -> bool:
    scale = max(abs(v) for v in values)
    return max(values) - min(values) <= _SHAPE_RTOL * max(scale, 1e-12)


def _reason(e: Exception) -> str:
    return str(e) or type(e).__name__


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _names_text(names: Sequence[str]) -> str:
    return ", ".join(names)


def _checked_names(report: DerivativeReport) -> list[str]:
    return [name for name in report.names if name not in report.unchecked]


def _point_text(point: tuple[float, ...], names: Sequence[str]) -> str:
    """'1.5' for one input, 'x=1.5, w=-2' for several."""
    if len(point) == 1:
        return f"{point[0]:.6g}"
    return ", ".join(f"{name}={x:.6g}" for name, x in zip(names, point))


def _counted(report: DerivativeReport) -> str:
    """'2 points skipped (undefined), 1 point undefined for the engine (1 kink) not judged'."""
    parts = []
    if report.skipped:
        parts.append(f"{_plural(report.skipped, 'point')} skipped (undefined)")
    if report.undefined_for_engine:
        kinds = [
            _plural(count, noun)
            for count, noun in ((report.kinks, "kink"), (report.infinite_slopes, "infinite slope"))
            if count
        ]
        parts.append(
            f"{_plural(report.undefined_for_engine, 'point')} undefined for the engine "
            f"({', '.join(kinds)}) not judged"
        )
    if report.unchecked:
        parts.append(f"no claim for {_names_text(report.unchecked)}")
    return ", ".join(parts)
