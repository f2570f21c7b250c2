"""``autograd-lite verify``: is my derivative of EXPR right? The engine answers.

``autograd-lite verify 'x*sigmoid(x)' --claim 'sigmoid(x)*(1 + x*(1 - sigmoid(x)))'``
builds EXPR from Values at many random points, differentiates it by reverse mode
and compares each ``--claim`` with the automatic derivative
(:func:`autograd_lite.check_derivative`). Both expressions go through the safe
parser of ``graph`` (:mod:`autograd_lite.expr`): nothing is evaluated by Python.
Exit status 0 when the claims hold, 1 when one does not (or nothing could be
checked), 2 for bad input. With several claims each gets its own verdict line.

The work is bounded before anything runs: points × (EXPR's size + the claims'
sizes) is at most ``MAX_WORK`` numbers, names and operations, a few seconds.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence

from ..derivative import DerivativeReport, check_derivative
from ..expr import ExpressionError, _clip, check_expression, expression_function, parse_bindings
from ..value import Value
from .common import CommandError, Subparsers, checked, seed, write_stdout

MAX_POINTS = 10_000
# points × (the nodes of EXPR + the nodes of every claim): each point builds EXPR, runs reverse
# mode and checks it, then builds each claim. 10**6 takes about 1.5 s of CPU
# (python benchmarks/bench_verify.py); it was about 12 minutes at the other limits alone.
MAX_WORK = 10**6
_NAMED = re.compile(r"\s*([^\W\d]\w*)\s*=(?!=)(.*)", re.S)
# A number written against a name or a bracket, as on paper: 2x, 3(x + 1), 0.5sin(x).
# (Not 1e-3 or 2E5: an exponent is followed by a digit or a signed digit.)
_IMPLICIT = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?)(?![eE][-+]?\d)([^\W\d]\w*|\()")
_E_POWER = re.compile(r"(?<![\w.])e\s*\*\*")

points = checked(int, lambda n: 1 <= n <= MAX_POINTS, f"a number of points from 1 to {MAX_POINTS}")


def value_range(text: str) -> tuple[float, float]:
    """``--range LOW:HIGH`` → (LOW, HIGH): finite numbers with LOW < HIGH."""
    low, colon, high = text.partition(":")
    try:
        bounds = (float(low), float(high)) if colon else None
    except ValueError:
        bounds = None
    if bounds is None or not all(map(math.isfinite, bounds)) or not bounds[0] < bounds[1]:
        raise argparse.ArgumentTypeError(
            f"expected LOW:HIGH with finite numbers LOW < HIGH, such as -3:3, got {text!r}"
        )
    return bounds


def cmd_verify(args: argparse.Namespace) -> int:
    """Check each --claim against the automatic derivative of EXPR; 0 ok, 1 wrong."""
    texts = list(args.claims)
    if args.expression is None:  # verify --claim 2*x x**2: the claims took EXPR along
        if len(texts) < 2:
            raise CommandError(
                "the following arguments are required: EXPR "
                "(as in: autograd-lite verify 'x**2' --claim '2*x')"
            )
        args.expression = texts.pop()
    try:
        names, build = expression_function(args.expression)
    except ExpressionError as e:
        raise CommandError(f"EXPR: {e}{_hint(args.expression, e)}") from None
    if not names:
        try:
            build({})  # a constant: say first if it cannot even be computed
        except ExpressionError as e:
            raise CommandError(f"EXPR: {e}") from None
        raise CommandError(f"EXPR {args.expression!r} has no variable to differentiate")
    try:
        fixed = parse_bindings(args.at)
    except ExpressionError as e:
        raise CommandError(f"--at: {e}") from None
    for name in fixed:
        if name not in names:
            raise CommandError(f"--at {name}: {name} is not a variable of EXPR ({_list(names)})")
    free = [name for name in names if name not in fixed]
    if not free:
        raise CommandError("--at fixes every variable of EXPR: leave at least one to check")
    _refuse_e_power("EXPR", args.expression, fixed)
    claims = _claims(texts, names, fixed, free)
    low, high = args.range
    _check_work(args.points, [args.expression, *(text for *_, text in claims.values())])

    def f(*xs: Value) -> Value:
        values = {name: Value(value, label=name) for name, value in fixed.items()}
        values.update(zip(free, xs))
        return build(values)

    f.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_ONLY) for name in free]
    )

    def df(*xs: float) -> float | tuple[float | None, ...]:
        env = {**fixed, **dict(zip(free, xs))}
        answers = []
        for name in free:
            if name not in claims:
                answers.append(None)
                continue
            claim_names, claim_build, _ = claims[name]
            try:
                answers.append(claim_build({n: Value(env[n], label=n) for n in claim_names}).data)
            except (ArithmeticError, ValueError) as e:  # this claim alone is undefined here
                answers.append(e)
        return answers[0] if len(answers) == 1 else tuple(answers)

    report = check_derivative(
        f, df, n=args.points, low=low, high=high, seed=args.seed, rtol=args.rtol, atol=args.atol
    )
    if report.checked == 0 and report.skipped == report.points:  # bad input: say why
        point, why = report.skip_reasons[0]
        at = ", ".join(f"{name}={x:.6g}" for name, x in zip(free, point))
        raise CommandError(
            f"EXPR is undefined at all {report.points} points drawn from [{low:g}, {high:g}] "
            f"(at {at}: {_plain(why)}); choose another --range or check it"
        )
    for name in claims:
        alone = report.for_input(name)
        if (
            alone.failures
            and all(f.problem for f in alone.failures)
            and (alone.failed_points == report.checked)
        ):
            point, why = alone.failures[0].point, alone.failures[0].problem
            at = ", ".join(f"{n}={x:.6g}" for n, x in zip(free, point))
            raise CommandError(
                f"a claim is undefined at all {report.checked} points where EXPR is defined "
                f"(the claim for {name} at {at}: {why.removeprefix('raises: ')}); check it"
            )
    unclaimed = [name for name in free if name not in claims]
    if report.checked == 0:  # nothing judged: the same for every claim, said once
        lines = [_without_no_claim(report.verdict(), report.unchecked)]
    else:
        lines = [_verdict(report.for_input(name), name, len(claims)) for name in claims]
    if unclaimed:
        lines.append(f"not checked (no --claim): {_list(unclaimed)}")
    write_stdout("\n".join(lines) + "\n")
    return 0 if report.ok else 1


def _verdict(report: DerivativeReport, name: str, claims: int) -> str:
    """The verdict on one claim: an ok line, or the report's WRONG line and worst points."""
    counted = [
        f"{report.skipped} skipped (undefined)" if report.skipped else "",
        _engine_text(report),
    ]
    if report.ok:
        line = (
            f"ok: the claim for {name} holds at {report.checked} "
            f"point{'s' if report.checked != 1 else ''} (largest error {report.max_error:.1e})"
        )
        return "; ".join([line, *filter(None, counted)])
    text = _without_no_claim(str(report), report.unchecked)
    if claims > 1 and f"the claim for {name}" not in text.partition("\n")[0]:
        text = text.replace("WRONG at", f"WRONG: the claim for {name} fails at", 1)
    return text


def _without_no_claim(text: str, unchecked: Sequence[str]) -> str:
    """The report's text without its 'no claim for ...' (verify lists them on a line of its own)."""
    if not unchecked:
        return text
    part = f"no claim for {_list(unchecked)}"
    return text.replace(f"; {part}", "").replace(f", {part}", "").replace(f": {part}", "")


def _engine_text(report: DerivativeReport) -> str:
    """'2 at a kink', '1 at an infinite slope (0·∞)', both, or ''."""
    parts = [
        f"{report.kinks} at a kink" if report.kinks else "",
        f"{report.infinite_slopes} at an infinite slope (0·∞)" if report.infinite_slopes else "",
    ]
    return ", ".join(filter(None, parts)) + (" not judged" if any(parts) else "")


def _hint(text: str, error: ExpressionError) -> str:
    """A hint for a slip of notation that Python's parser reports obscurely, or ''."""
    match = _IMPLICIT.search(text)
    if match:
        number, after = match.groups()
        after = "(...)" if after == "(" else after
        return f" (write {number}*{after}, not {number}{after})"
    return ""


def _refuse_e_power(what: str, text: str, fixed: Mapping[str, float]) -> None:
    """``e**x`` reads e as a variable: say to write exp(x) (unless --at gives e a value)."""
    if "e" not in fixed and _E_POWER.search(text):
        raise CommandError(
            f"{what}: e is read as a variable here; for e to the power x write exp(x), "
            "not e**x (or give e a value with --at e=VALUE)"
        )


def _size(text: str) -> int:
    """How many numbers, names and operations the (checked) expression has."""
    return sum(1 for node in ast.walk(check_expression(text).body) if not _is_context(node))


def _is_context(node: ast.AST) -> bool:
    return isinstance(node, (ast.expr_context, ast.operator, ast.unaryop))


def _check_work(points: int, texts: Sequence[str]) -> None:
    """Refuse (CommandError) more than MAX_WORK: points × the sizes of EXPR and the claims."""
    size = sum(_size(text) for text in texts)
    work = points * size
    if work > MAX_WORK:
        raise CommandError(
            f"this check is too big: {points:,} points × {size:,} numbers, names and "
            f"operations (EXPR and the claims) = {work:,}, more than the limit {MAX_WORK:,}; "
            f"use --points {max(1, MAX_WORK // size):,} or fewer"
        )


def _claims(
    texts: Sequence[str],
    names: Sequence[str],
    fixed: Mapping[str, float],
    free: Sequence[str],
) -> dict[str, tuple[list[str], Callable, str]]:
    """Each ``--claim [NAME=]EXPR`` checked: NAME → (the claim's names, its builder, EXPR)."""
    claims: dict[str, tuple[list[str], Callable, str]] = {}
    for text in texts:
        match = _NAMED.fullmatch(text)
        if match:
            name, claim = unicodedata.normalize("NFKC", match[1]), match[2]
        elif len(free) == 1:
            name, claim = free[0], text
        else:
            raise CommandError(
                f"--claim {_clip(text)!r}: say which variable it is for, as in "
                f"--claim {free[0]}=EXPR (EXPR's variables: {_list(free)})"
            )
        if name in fixed:
            raise CommandError(f"--claim {name}=...: {name} is fixed by --at; there is no claim")
        if name not in names:
            raise CommandError(
                f"--claim {name}=...: {name} is not a variable of EXPR ({_list(names)})"
            )
        if name in claims:
            raise CommandError(f"--claim {name}=... is given twice")
        try:
            claim_names, claim_build = expression_function(claim)
        except ExpressionError as e:
            raise CommandError(f"--claim {name}=...: {e}{_hint(claim, e)}") from None
        _refuse_e_power(f"--claim {name}=...", claim, fixed)
        stray = [n for n in claim_names if n not in names]
        if stray:
            raise CommandError(
                f"--claim {name}=...: {_list(stray)} "
                f"{'is not a variable' if len(stray) == 1 else 'are not variables'} "
                f"of EXPR ({_list(names)})"
            )
        claims[name] = (claim_names, claim_build, claim)
    return claims


def _plain(why: str) -> str:
    """'f is undefined (cannot compute log(x): ...)' -> 'cannot compute log(x): ...'."""
    for prefix in ("f is undefined (", "the claim is undefined ("):
        if why.startswith(prefix):
            return why.removeprefix(prefix).removesuffix(")")
    return why.replace("f is", "EXPR is", 1).replace("of f", "of EXPR", 1)


def _list(names: Sequence[str], one: str = "", many: str = "") -> str:
    prefix = (one if len(names) == 1 else many) + (" " if one or many else "")
    return prefix + ", ".join(names)


def register(sub: Subparsers) -> None:
    """Add the ``verify`` command."""
    verify = sub.add_parser(
        "verify",
        help="check your derivative of an expression against the automatic one",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Draw points uniformly from --range, build EXPR from Values there, differentiate it\n"
            "by reverse mode and compare each --claim with the automatic derivative:\n"
            "  |claimed - automatic| <= rtol*|automatic| + atol*S\n"
            "where S is the derivative's typical size (the median of |automatic| over the\n"
            "points). So a wrong factor, a wrong sign or a constant offset is WRONG however\n"
            "small or large the derivative is (1e-300 or 1e300); atol only absorbs rounding\n"
            "near a zero of the derivative.\n\n"
            "Points where EXPR or its derivative is undefined are skipped. Points where the\n"
            "engine's number is not the derivative are counted, not judged: a relu, max or\n"
            "abs exactly at its kink, or an infinite slope met by the rule 0*inf = 0\n"
            "((x**3)**(1/3) at 0). A claim that is undefined (or inf, NaN) where EXPR and\n"
            "its derivative are finite fails there. Each claim gets its own verdict line;\n"
            "a variable without a --claim is listed as not checked. --points times the size\n"
            "of EXPR and the claims (their numbers, names and operations) may be at most\n"
            f"{MAX_WORK:,} (a few seconds).\n\n"
            "EXPR and the claims may use numbers, names, + - * / **, parentheses and the\n"
            "functions of `graph` (write 2*x, not 2x; exp(x), not e**x); nothing is\n"
            "evaluated by Python. EXPR may come before or after the claims.\n\n"
            "exit status: 0 the claims hold, 1 a claim is wrong (the worst points and the\n"
            "shape of the error are printed) or nothing could be checked, 2 bad input.\n"
            "The derivations behind `check` are written out in docs/derivations.md."
        ),
        epilog=(
            "examples:\n"
            "  autograd-lite verify 'x*sigmoid(x)' --claim 'sigmoid(x)*(1 + x*(1 - sigmoid(x)))'\n"
            "  autograd-lite verify 'tanh(w*x + b)' --claim 'w=x*(1 - tanh(w*x + b)**2)' \\\n"
            "      --claim 'b=1 - tanh(w*x + b)**2' --at x=0.5\n"
            "  autograd-lite verify 'log(x)' --claim '1/x' --range=0.1:5\n"
            "  (write --range=-5:5 and --claim=-EXPR with '=' when they start with a minus)"
        ),
    )
    verify.add_argument("expression", metavar="EXPR", nargs="?", help="for example 'x*sigmoid(x)'")
    verify.add_argument(
        "--claim",
        dest="claims",
        metavar="[NAME=]EXPR",
        action="extend",
        nargs="+",
        required=True,
        help="your derivative of EXPR with respect to NAME (NAME may be left out when EXPR "
        "has one free variable); one per variable",
    )
    verify.add_argument(
        "--range",
        metavar="LOW:HIGH",
        type=value_range,
        default=(-3.0, 3.0),
        help="draw each free variable uniformly from [LOW, HIGH] (default -3:3)",
    )
    verify.add_argument(
        "--points",
        metavar="N",
        type=points,
        default=100,
        help=f"how many points to draw (default 100, at most {MAX_POINTS})",
    )
    verify.add_argument(
        "--at",
        metavar="NAME=VALUE",
        action="extend",
        nargs="+",
        default=[],
        help="fix a variable at VALUE and check the others",
    )
    verify.add_argument(
        "--seed", metavar="N", type=seed, default=0, help="seeds the points (default 0)"
    )
    tolerance = checked(float, lambda x: math.isfinite(x) and x >= 0, "a number ≥ 0")
    verify.add_argument(
        "--rtol", type=tolerance, default=1e-6, help="relative tolerance (default 1e-6)"
    )
    verify.add_argument(
        "--atol",
        type=tolerance,
        default=1e-9,
        help="tolerance near a zero of the derivative, as a fraction of its typical size "
        "(default 1e-9)",
    )
    verify.set_defaults(func=cmd_verify)
