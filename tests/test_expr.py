"""autograd_lite.expr: the safe expression parser, against closed forms and hostile input."""

from __future__ import annotations

import math
import re

import pytest

from autograd_lite import topological_order
from autograd_lite.expr import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NESTING,
    MAX_NODES,
    ExpressionError,
    check_expression,
    parse_bindings,
    parse_expression,
)

ENV = {"x": 0.5, "w": -3.0, "b": 2.0}


def sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


# (expression, value, d/dx) at x = 0.5, w = -3, b = 2: closed forms.
GOOD = [
    ("x", 0.5, 1.0),
    ("3", 3.0, 0.0),
    ("x + 1", 1.5, 1.0),
    ("1 - x", 0.5, -1.0),
    ("x * x", 0.25, 1.0),
    ("x / 4", 0.125, 0.25),
    ("2 / x", 4.0, -8.0),
    ("x ** 3", 0.125, 0.75),
    ("x ** -1", 2.0, -4.0),
    ("x ** 0.5", math.sqrt(0.5), 0.5 / math.sqrt(0.5)),
    ("2 ** x", math.sqrt(2.0), math.log(2.0) * math.sqrt(2.0)),
    ("x ** x", 0.5**0.5, 0.5**0.5 * (math.log(0.5) + 1)),
    ("(-2) ** 2", 4.0, 0.0),
    ("-x", -0.5, -1.0),
    ("+x", 0.5, 1.0),
    ("--x", 0.5, 1.0),
    ("-x ** 2", -0.25, -1.0),  # -(x**2), as in Python
    ("exp(x)", math.exp(0.5), math.exp(0.5)),
    ("log(x)", math.log(0.5), 2.0),
    ("tanh(x)", math.tanh(0.5), 1 - math.tanh(0.5) ** 2),
    ("sigmoid(x)", sigmoid(0.5), sigmoid(0.5) * (1 - sigmoid(0.5))),
    ("relu(x)", 0.5, 1.0),
    ("relu(-x)", 0.0, 0.0),
    ("max(x, w)", 0.5, 1.0),
    ("max(w, 1)", 1.0, 0.0),
    ("tanh(x*w + b)", math.tanh(0.5), -3.0 * (1 - math.tanh(0.5) ** 2)),
    ("1e-3 * x + 0.25e1", 2.5005, 1e-3),
    ("((x))", 0.5, 1.0),
    ("x*w+b", 0.5, -3.0),
]


@pytest.mark.parametrize("text, value, dx", GOOD, ids=[g[0] for g in GOOD])
def test_good_expressions_match_closed_forms(text, value, dx):
    root = parse_expression(text, ENV)
    root.backward()
    assert root.data == pytest.approx(value, rel=1e-12, abs=1e-12)
    x = next((v for v in topological_order(root) if v.label == "x"), None)
    assert (x.grad if x is not None else 0.0) == pytest.approx(dx, rel=1e-9, abs=1e-12)


def test_each_name_is_one_labelled_leaf_and_numbers_are_constants():
    root = parse_expression("x * x + 2 * x - 3", ENV)
    order = topological_order(root)
    xs = [v for v in order if v.label == "x"]
    assert len(xs) == 1 and not xs[0].parents
    constants = sorted(v.data for v in order if not v.parents and not v.label)
    assert constants == [2.0, 3.0]
    assert all(v.is_constant == (not v.parents and not v.label) for v in order)
    root.backward()
    assert xs[0].grad == pytest.approx(2 * 0.5 + 2)


def test_a_number_exponent_is_a_constant_power_and_any_other_a_value_power():
    assert parse_expression("x ** 2", ENV).op == "pow"
    assert parse_expression("x ** -2", ENV).op == "pow"
    assert parse_expression("w ** 2", ENV).data == 9.0  # negative base, constant power: fine
    assert parse_expression("2 ** x", ENV).op == "powv"
    assert parse_expression("x ** (1 + 1)", ENV).op == "powv"


def test_signed_numbers_are_folded_into_constants():
    root = parse_expression("x * -3", ENV)
    assert [v.op for v in topological_order(root)] == ["", "", "mul"]
    assert root.parents[1].data == -3.0


# ---- refused input --------------------------------------------------------------------------

HOSTILE = [
    ("__import__('os').system('touch /tmp/pwned')", "only calls of these functions"),
    ("x.real", "attribute access"),
    ("x.__class__.__bases__", "attribute access"),
    ("x[0]", "subscripts"),
    ("x[1:2]", "subscripts"),
    ("lambda: 1", "lambda"),
    ("(lambda: 0)()", "only calls of these functions"),
    ("'abc'", "strings"),
    ("b'abc'", "strings"),
    ("f'{x}'", "f-strings"),
    ("open('/etc/passwd')", "calling 'open' is not allowed"),
    ("eval('1')", "calling 'eval' is not allowed"),
    ("exec('1')", "calling 'exec' is not allowed"),
    ("getattr(x, 'a')", "calling 'getattr' is not allowed"),
    ("max(x, b=1)", "keyword arguments"),
    ("tanh(x=1)", "keyword arguments"),
    ("tanh(*x)", "starred"),
    ("max(x)", "max takes 2 arguments, got 1"),
    ("max(x, w, b)", "max takes 2 arguments, got 3"),
    ("exp()", "exp takes 1 argument, got 0"),
    ("[i for i in x]", "comprehensions"),
    ("(i for i in x)", "comprehensions"),
    ("{i: 1 for i in x}", "comprehensions"),
    ("[x]", "lists"),
    ("(x, w)", "tuples"),
    ("{x}", "sets"),
    ("{1: x}", "dicts"),
    ("x if b else w", "conditional"),
    ("x < w", "comparisons"),
    ("x and w", "'and' and 'or'"),
    ("not x", "'not'"),
    ("(y := 1)", "assignment"),
    ("x // 2", "'//'"),
    ("x % 2", "'%'"),
    ("x @ w", "'@'"),
    ("x ^ w", "'^'"),
    ("~x", "'~'"),
    ("True", "True is not a number"),
    ("None", "None is not a number"),
    ("...", "Ellipsis is not a number"),
    ("1j", "complex"),
    ("1e400", "too large"),
    ("1" * 400, "too large"),
    ("x = 1", "syntax error"),
    ("import os", "syntax error"),
    ("x +", "syntax error"),
    ("x\0", "null bytes"),
    ("", "empty"),
    ("   ", "empty"),
    ("x" * (MAX_LENGTH + 1), "too long"),
    ("(" * 10_000 + "x" + ")" * 10_000, "too long"),
    ("(" * (MAX_NESTING + 1) + "x" + ")" * (MAX_NESTING + 1), "nested too deeply"),
    ("[" * 300 + "]" * 300, "nested too deeply"),
    ("-" * 500 + "x", "nested too deeply"),
    ("+".join(["x"] * (MAX_DEPTH + 1)), "nested too deeply"),
    ("x**" * 300 + "x", "nested too deeply"),
    ("+".join(["(" + "+".join(["x"] * 50) + ")"] * 4), "too big"),
    ("z + x", "unbound name 'z'"),
    ("z + y", "unbound names 'z', 'y'"),
    ("tanh + 1", "tanh is a function"),
    ("__import__", "unbound name '__import__'"),
]


@pytest.mark.parametrize("text, message", HOSTILE, ids=[h[0][:30] for h in HOSTILE])
def test_hostile_or_invalid_expressions_are_refused_with_a_reason(text, message):
    with pytest.raises(ExpressionError, match=re.escape(message)) as info:
        parse_expression(text, ENV)
    assert "\n" not in str(info.value)
    assert len(str(info.value)) < 300


def test_limits_are_checked_before_parsing(monkeypatch):
    import ast

    def never(*args, **kwargs):
        raise AssertionError("ast.parse must not see this")

    monkeypatch.setattr(ast, "parse", never)
    for text in ("x" * (MAX_LENGTH + 1), "(" * 10_000 + "x" + ")" * 10_000, "(" * 60 + ")" * 60):
        with pytest.raises(ExpressionError):
            check_expression(text)


def test_the_biggest_allowed_expressions_work():
    env = {f"x{i}": float(i) for i in range(MAX_NODES)}
    total = "+".join(f"x{i}" for i in range(MAX_DEPTH))  # depth exactly MAX_DEPTH
    assert parse_expression(total, env).data == sum(range(MAX_DEPTH))
    nested = "(" * MAX_NESTING + "x1" + ")" * MAX_NESTING
    assert parse_expression(nested, env).data == 1.0


# ---- errors of the engine while computing ---------------------------------------------------

ENGINE_ERRORS = [
    ("log(-1)", "cannot compute log(-1): log: log of -1.0 is undefined"),
    ("log(x - 0.5)", "cannot compute log(x - 0.5)"),
    ("x / 0", "cannot compute x / 0: div: division by zero"),
    ("1 / (x - x)", "division by zero"),
    ("0 ** -1", "0 raised to the negative power"),
    ("exp(1000)", "exp(1000.0) overflows"),
    ("9**9**9**9", "cannot compute 9**9**9: pow: 9.0 ** 387420489.0 overflows a float"),
    ("10 ** 400", "overflows"),
    ("1e308 * 10", "cannot compute 1e308 * 10: mul: forward produced inf"),
    ("w ** 0.5", "negative base"),
    ("(-x) ** x", "needs a positive base"),
]


@pytest.mark.parametrize("text, message", ENGINE_ERRORS, ids=[e[0] for e in ENGINE_ERRORS])
def test_engine_errors_name_the_subexpression(text, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse_expression(text, ENV)


# ---- NAME=VALUE bindings --------------------------------------------------------------------


def test_parse_bindings():
    assert parse_bindings(["x=0.5", "w=-3", "b = 2e0", "_t1=1_000"]) == {
        "x": 0.5,
        "w": -3.0,
        "b": 2.0,
        "_t1": 1000.0,
    }
    assert parse_bindings([]) == {}


@pytest.mark.parametrize(
    "pairs, message",
    [
        (["x"], "expected NAME=VALUE, got 'x'"),
        (["x=abc"], "the value of x is not a number: 'abc'"),
        (["x="], "the value of x is not a number: ''"),
        (["x=1=2"], "the value of x is not a number: '1=2'"),
        (["x=0x10"], "not a number"),
        (["1x=3"], "'1x' is not a valid name"),
        (["=3"], "'' is not a valid name"),
        (["lambda=1"], "'lambda' is not a valid name"),
        (["x.y=1"], "'x.y' is not a valid name"),
        (["tanh=1"], "'tanh' is a function"),
        (["x=1", "x=2"], "x is given twice"),
        (["x=nan"], "must be finite"),
        (["x=-inf"], "must be finite"),
        (["x=1e999"], "must be finite"),
    ],
)
def test_bad_bindings_are_refused(pairs, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse_bindings(pairs)


def test_expression_error_is_a_value_error():
    assert issubclass(ExpressionError, ValueError)
