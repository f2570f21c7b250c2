"""``autograd-lite verify``: is my derivative of EXPR right? The engine answers.

``autograd-lite verify 'x*sigmoid(x)' --claim 'sigmoid(x)*(1 + x*(1 - sigmoid(x)))'``
builds EXPR from Values at many random points, differentiates it by reverse mode
and compares each ``--claim`` with the automatic derivative
(:func:`autograd_lite.check_derivative`). Both expressions go through the safe
parser of ``graph`` (:mod:`autograd_lite.expr`): nothing is evaluated by Python.
Exit status 0 when the claims hold, 1 when one does not (or nothing could be
checked), 2 for bad input.
"""

from __future__ import annotations

import argparse
import inspect
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence

from ..derivative import check_derivative
from ..expr import ExpressionError, _clip, expression_function, parse_bindings
from ..value import Value
from .common import CommandError, Subparsers, checked, seed, write_stdout

MAX_POINTS = 10_000
_NAMED = re.compile(r"\s*([^\W\d]\w*)\s*=(?!=)(.*)", re.S)

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
    try:
        names, build = expression_function(args.expression)
    except ExpressionError as e:
        raise CommandError(f"EXPR: {e}") from None
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
    claims = _claims(args.claims, names, fixed, free)
    low, high = args.range

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
            claim_names, claim_build = claims[name]
            answers.append(claim_build({n: Value(env[n], label=n) for n in claim_names}).data)
        return answers[0] if len(answers) == 1 else tuple(answers)

    report = check_derivative(
        f, df, n=args.points, low=low, high=high, seed=args.seed, rtol=args.rtol, atol=args.atol
    )
    if report.checked == 0 and report.skipped == report.points:  # bad input: say why
        by_claim = [(p, why) for p, why in report.skip_reasons if why.startswith("the claim")]
        point, why = (by_claim or report.skip_reasons)[0]
        at = ", ".join(f"{name}={x:.6g}" for name, x in zip(free, point))
        what = "a claim is" if by_claim else "EXPR is"
        raise CommandError(
            f"{what} undefined at all {report.points} points drawn from [{low:g}, {high:g}] "
            f"(at {at}: {_plain(why)}); choose another --range or check it"
        )
    unclaimed = [name for name in free if name not in claims]
    not_checked = f"not checked (no --claim): {_list(unclaimed)}" if unclaimed else ""
    if report.ok:
        line = (
            f"ok: {_list(list(claims), 'the claim for', 'the claims for')} "
            f"{'holds' if len(claims) == 1 else 'hold'} at {report.checked} "
            f"point{'s' if report.checked != 1 else ''} (largest error {report.max_error:.1e})"
        )
        extra = [
            f"{report.skipped} skipped (undefined)" if report.skipped else "",
            f"{report.kinks} at a kink" if report.kinks else "",
            not_checked,
        ]
        write_stdout("; ".join([line, *filter(None, extra)]) + "\n")
        return 0
    text = str(report).replace(f"; no claim for {_list(unclaimed)}", "")
    write_stdout(text + (f"\n{not_checked}" if not_checked else "") + "\n")
    return 1


def _claims(
    texts: Sequence[str],
    names: Sequence[str],
    fixed: Mapping[str, float],
    free: Sequence[str],
) -> dict[str, tuple[list[str], Callable]]:
    """Each ``--claim [NAME=]EXPR`` checked: NAME → (the claim's names, its builder)."""
    claims: dict[str, tuple[list[str], Callable]] = {}
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
            raise CommandError(f"--claim {name}=...: {e}") from None
        stray = [n for n in claim_names if n not in names]
        if stray:
            raise CommandError(
                f"--claim {name}=...: {_list(stray)} "
                f"{'is not a variable' if len(stray) == 1 else 'are not variables'} "
                f"of EXPR ({_list(names)})"
            )
        claims[name] = (claim_names, claim_build)
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
            "|claimed - automatic| <= atol + rtol*|automatic|. Points where EXPR or a claim\n"
            "is undefined, or a relu, max or abs sits exactly at its kink, are counted,\n"
            "not judged. A variable without a --claim is listed as not checked.\n\n"
            "EXPR and the claims may use numbers, names, + - * / **, parentheses and the\n"
            "functions of `graph`; nothing is evaluated by Python.\n\n"
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
    verify.add_argument("expression", metavar="EXPR", help="for example 'x*sigmoid(x)'")
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
        "--atol", type=tolerance, default=1e-9, help="absolute tolerance (default 1e-9)"
    )
    verify.set_defaults(func=cmd_verify)
