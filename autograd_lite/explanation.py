"""``explain``: one gradient written out as the chain rule, with its numbers.

The gradient of an output L with respect to a node v collects one term per use
of v: each child c that took v as an operand contributes its local derivative
times the gradient that reached c,

    ∂L/∂v = Σ_c (∂c/∂v) · ∂L/∂c,

which is exactly what ``backward`` adds into ``v.grad``, one ``+=`` per term,
in reverse topological order. :func:`explain` prints those terms, each with
the derivative rule of its op (:data:`RULES`, one line per op of the op table)
and its numbers, and the total.

:data:`RULES` also names the *pattern* each op makes of the gradient that flows
through it (add distributes, mul swaps, max routes, relu gates, tanh scales
...): viz's player shows the same texts while it steps through ``backward``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

from .ops import OPS
from .value import Value, topological_order


class Rule(NamedTuple):
    """How to read one op's local derivatives: the result written with the
    operands a (and b), one derivative formula per operand, and the pattern."""

    expression: str
    derivatives: tuple[str, ...]
    pattern: str


# One entry per op of the op table (tests check that every op has one). {a} and {b} stand
# for the operands' names (a constant's value), so a rule reads ∂(x·w)/∂x = w.
RULES: dict[str, Rule] = {
    "add": Rule("{a} + {b}", ("1", "1"), "add distributes: each operand gets the gradient as is"),
    "sub": Rule("{a} − {b}", ("1", "−1"), "sub distributes: the first gets it, the second −1×"),
    "neg": Rule("−{a}", ("−1",), "neg flips the sign of the gradient"),
    "mul": Rule("{a}·{b}", ("{b}", "{a}"), "mul swaps: each operand's gradient is the other × it"),
    "div": Rule("{a}/{b}", ("1/{b}", "−{a}/{b}²"), "div scales by 1/b for a and by −a/b² for b"),
    "pow": Rule("{a}**{b}", ("{b}·{a}**({b} − 1)", "0"), "pow scales by its derivative k·aᵏ⁻¹"),
    "powv": Rule(
        "{a}**{b}", ("{b}·{a}**({b} − 1)", "{a}**{b}·ln {a}"), "pow scales by its partials"
    ),
    "exp": Rule("exp({a})", ("exp({a})",), "exp scales by its derivative, its own output"),
    "log": Rule("ln({a})", ("1/{a}",), "log scales by its derivative 1/a"),
    "tanh": Rule("tanh({a})", ("1 − tanh²({a})",), "tanh scales by its derivative 1 − out²"),
    "sigmoid": Rule(
        "σ({a})", ("σ({a})·(1 − σ({a}))",), "sigmoid scales by its derivative out·(1 − out)"
    ),
    "relu": Rule(
        "relu({a})", ("1 if {a} > 0 else 0",), "relu gates: the gradient passes only where a > 0"
    ),
    "max": Rule(
        "max({a}, {b})",
        ("1 if {a} > {b}, ½ at a tie, else 0", "1 if {b} > {a}, ½ at a tie, else 0"),
        "max routes: the whole gradient goes to the larger operand",
    ),
    "abs": Rule("|{a}|", ("sign({a})",), "abs passes the gradient times the sign of a (0 at 0)"),
    "sin": Rule("sin({a})", ("cos({a})",), "sin scales by its derivative cos a"),
    "cos": Rule("cos({a})", ("−sin({a})",), "cos scales by its derivative −sin a"),
    "sqrt": Rule("√{a}", ("1/(2√{a})",), "sqrt scales by its derivative 1/(2√a)"),
}


def number(x: float, precision: int | None = None) -> str:
    """``x`` in ``precision`` significant digits (``repr`` when None); a nonzero never reads 0.

    ``number(8.245e-9, 4) == '8.245e-09'``, ``number(3.0, 4) == '3.0'``,
    ``number(-0.0, 4) == '0.0'``,
    ``number(0.1 + 0.2) == '0.30000000000000004'``.
    """
    if precision is None or not math.isfinite(x):
        return repr(float(x))
    if not isinstance(precision, int) or isinstance(precision, bool) or precision < 1:
        raise ValueError(f"precision must be a positive int or None, got {precision!r}")
    if x == 0:
        return "0.0"  # −0.0 too: a picture shows no sign that no digit can explain
    text = f"{x:.{precision}g}"
    # Read as a float, as Python prints one: 3 -> 3.0 (but 1e+20 stays as it is).
    return text if any(c in text for c in ".en") else text + ".0"


def local_derivatives(v: Value) -> tuple[float, ...]:
    """``∂v/∂p`` for each parent p of ``v``, from the op table's rule, as floats."""
    if not v.parents:
        return ()
    rule = OPS[v.op].rule(v.data, *(p.data for p in v.parents))
    return tuple(float(d) for d in rule)


def contribution(local: float, upstream: float) -> float:
    """``local · upstream`` as ``backward`` adds it: 0 × anything = 0, even × inf or NaN.

    A zero local derivative adds nothing, and a node whose gradient is 0
    passes nothing on, even through an infinite slope.
    """
    return 0.0 if local == 0 or upstream == 0 else local * upstream


def gradients(output: Value, order: list[Value] | None = None) -> dict[Value, float]:
    """∂output/∂v for every v of the graph: ``backward``'s loop, on a dict instead of ``.grad``."""
    order = topological_order(output) if order is None else order
    grads = dict.fromkeys(order, 0.0)
    grads[output] = 1.0
    for v in reversed(order):
        g = grads[v]
        for p, d in zip(v.parents, local_derivatives(v)):
            grads[p] += contribution(d, g)
    return grads


# An unlabelled result is named by what it computes, up to this many characters; past it
# by its op and its place among that op's results (sum#3), so a deep graph's names stay short.
MAX_NAME = 32
# How tightly each op's written form binds its operands (a call such as tanh(…) binds them
# all: its operand is inside its parentheses). A name looser than its place is parenthesised.
PRECEDENCE = {"add": 1, "sub": 1, "neg": 2, "mul": 3, "div": 3, "pow": 4, "powv": 4, "sqrt": 4}
_ATOM = 9
# The word for an op's result in a short name: sum#3 is the third sum of the graph.
_NOUNS = {"add": "sum", "sub": "difference", "mul": "product", "div": "quotient", "neg": "negation"}
_PLAIN_NAME = re.compile(r"[\w.#']+")


def names(
    order: list[Value],
    fmt: Callable[[float], str] | None = None,
    given: Mapping[Value, str] | None = None,
) -> dict[Value, str]:
    """A name for each node of ``order`` (in topological order), as a reader sees it.

    ``given[v]`` if the caller names ``v`` (a picture's box name); else a node's label if
    it has one; a constant its value; an unlabelled result
    what it computes, its op written with its operands' names (``x1·w1``,
    ``tanh(x1·w1 + b)``), parenthesised where the ops require, if that is at
    most ``MAX_NAME`` characters, else its op and its place among that op's
    results (``sum#3``, ``tanh#2``); an unlabelled leaf that is not a constant
    ``leaf#k``. An unlabelled output (the last node) is ``out``: its name is in
    every ∂out/∂v, so it must be short. Never an internal node id.
    """
    fmt = fmt or (lambda x: number(x, 4))
    name: dict[Value, str] = {}
    counts: dict[str, int] = {}
    for v in order:
        if given and v in given:
            name[v] = given[v]
        elif v.label:
            name[v] = v.label
        elif v is order[-1] and v.parents:
            name[v] = "out"
        elif is_constant(v):
            name[v] = fmt(v.data)
        elif not v.parents:
            counts["leaf"] = counts.get("leaf", 0) + 1
            name[v] = f"leaf#{counts['leaf']}"
        else:
            noun = _NOUNS.get(v.op, v.op)
            counts[noun] = counts.get(noun, 0) + 1
            text = written(v, name, fmt)
            name[v] = text if len(text) <= MAX_NAME else f"{noun}#{counts[noun]}"
    return name


def _precedence(p: Value, name: dict[Value, str]) -> int:
    """How tightly ``name[p]`` binds: a plain name or a call is an atom; a label with
    operators in it binds nothing (always parenthesised)."""
    text = name[p]
    if _PLAIN_NAME.fullmatch(text) or (is_constant(p) and not text.startswith("-")):
        return _ATOM
    if p.label or not p.parents:
        return 0 if not is_constant(p) else PRECEDENCE["neg"]
    return PRECEDENCE.get(p.op, _ATOM)


def wrapped(p: Value, name: dict[Value, str]) -> str:
    """``name[p]`` as it is written after ∂ or before .grad: parenthesised unless an atom,
    so ∂L/∂(x1·w1) is not read as (∂L/∂x1)·w1."""
    return name[p] if _precedence(p, name) == _ATOM else f"({name[p]})"


def defined(v: Value, name: dict[Value, str], fmt: Callable[[float], str]) -> str:
    """``n = x1·w1 + b`` for a named result; ``x1·w1`` alone when that is its name."""
    text = written(v, name, fmt)
    return text if name[v] == text else f"{name[v]} = {text}"


def operand_names(v: Value, name: dict[Value, str], fmt: Callable[[float], str]) -> dict:
    """``{'a': ..., 'b': ...}``: the names of ``v``'s operands, parenthesised where ``v``'s op
    binds tighter than they do (``(a + b)·c``, ``a − (b − c)``); a constant is its value."""
    tight = PRECEDENCE.get(v.op)
    operands = {}
    for key, p in zip("ab", v.parents):
        text = fmt(p.data) if is_constant(p) else name[p]
        if tight is not None:
            loose = _precedence(p, {p: text})
            strict = key == "b" and v.op in ("sub", "div") or v.op in ("pow", "powv")
            if loose < tight or (strict and loose == tight):
                text = f"({text})"
        operands[key] = text
    return operands


def written(v: Value, name: dict[Value, str], fmt: Callable[[float], str]) -> str:
    """``v``'s op applied to its operands' names: ``x·w``, ``tanh(n)``, ``x**2.0``."""
    rule = RULES.get(v.op)
    if rule is None:
        return f"{v.op}({', '.join(operand_names(v, name, fmt).values())})"
    return rule.expression.format(**operand_names(v, name, fmt))


def rule_text(
    v: Value, position: int, local: float, name: dict[Value, str], fmt: Callable[[float], str]
) -> str:
    """``∂(a·b)/∂a = b = 3.0``: the rule for operand ``position`` of ``v``, then its value."""
    operands = operand_names(v, name, fmt)
    p = v.parents[position]
    wrt = fmt(p.data) if is_constant(p) else wrapped(p, name)
    rule = RULES.get(v.op)
    if rule is None:
        return f"∂{v.op}/∂{wrt} = {fmt(local)}"
    formula = rule.derivatives[position].format(**operands)
    expression = written(v, name, fmt)
    if not _CALL.fullmatch(expression):  # ∂tanh(n)/∂n, but ∂(x·w)/∂x
        expression = f"({expression})"
    text = f"∂{expression}/∂{wrt} = {formula}"
    try:
        plain = float(formula.replace("−", "-")) == local  # "1", "−1": the number already
    except ValueError:
        plain = False
    return text if plain else f"{text} = {fmt(local)}"


_CALL = re.compile(r"\w+\([^()]*\)|σ\([^()]*\)|\|[^|]*\|")


def is_constant(v: Value) -> bool:
    """A leaf the engine made from a plain number (the 2 of ``x**2``)."""
    return v.is_constant


def explain(output: Value, node: Value, *, precision: int | None = None) -> str:
    """∂output/∂node written as Σ over node's children of (local derivative) × (upstream grad).

    One line per use of ``node`` (a child that uses it twice, as ``a·a``, gives
    two), in the order ``backward`` adds them, each with its op's rule and
    numbers; the last line is the total, which equals ``node.grad`` after
    ``output.backward()``. Numbers are printed in full (``repr``) unless
    ``precision`` (significant digits) is given.
    """
    if not isinstance(output, Value) or not isinstance(node, Value):
        raise TypeError(
            "explain: output and node must be Values, got "
            f"{type(output).__name__} and {type(node).__name__}"
        )
    order = topological_order(output)
    if node not in set(order):
        raise ValueError(
            f"explain: {node!r} is not in the graph of {output!r}: output does not depend on it"
        )

    return ledger(analyse(output, order), node, precision)


class Graph(NamedTuple):
    """What every ledger of one output needs, computed once: order, names, gradients, uses."""

    output: Value
    order: list[Value]
    name: dict[Value, str]
    grads: dict[Value, float]
    # Each node's uses (child, operand position, local derivative), in backward's order.
    uses: dict[Value, list[tuple[Value, int, float]]]


def analyse(output: Value, order: list[Value] | None = None) -> Graph:
    """The :class:`Graph` of ``output``: one pass for the gradients, one for the uses."""
    order = topological_order(output) if order is None else order
    uses: dict[Value, list[tuple[Value, int, float]]] = {v: [] for v in order}
    for child in reversed(order):
        for position, (p, local) in enumerate(zip(child.parents, local_derivatives(child))):
            uses[p].append((child, position, local))
    return Graph(output, order, names(order), gradients(output, order), uses)


def ledger(graph: Graph, node: Value, precision: int | None = None) -> str:
    """The text of :func:`explain` for ``node`` of an already analysed ``graph``."""
    return "\n".join(ledger_lines(graph, node, precision))


def ledger_lines(graph: Graph, node: Value, precision: int | None = None) -> list[str]:
    """:func:`ledger`'s lines: the sum over the uses, one line a use, the total. (A label's
    own line break stays inside its line, where splitting the text would cut it.)"""

    def fmt(x: float) -> str:
        return number(x, precision)

    output, name, grads = graph.output, graph.name, graph.grads
    out, v = wrapped(output, name), name[node]
    head = f"∂{out}/∂{wrapped(node, name)}"
    if node is output:
        return [f"{head} = 1.0 (the output: backward starts from ∂{out}/∂{out} = 1)"]
    if is_constant(node):
        note = " (a constant the engine made from a number: it gets no gradient)"
    else:
        note = ""
    lines = [
        f"{head} = Σ over the uses of {v}: ∂child/∂{wrapped(node, name)} · ∂{out}/∂child{note}"
    ]
    total = 0.0
    terms = []
    for child, position, local in graph.uses[node]:
        upstream = grads[child]
        term = contribution(local, upstream)
        total += term
        terms.append(term)
        rule = rule_text(child, position, local, name, fmt)
        lines.append(
            f"  {defined(child, name, fmt)}: {rule}; "
            f"× ∂{out}/∂{wrapped(child, name)} = {fmt(upstream)} → {fmt(term)}"
        )
    sums = ""
    if len(terms) > 1:  # 0.4578 − 0.19 + 0.2678, not 0.4578 + -0.19 + 0.2678
        sums = fmt(terms[0]) + "".join(
            f" − {fmt(-t)}" if t < 0 else f" + {fmt(t)}" for t in terms[1:]
        )
    lines.append(f"{head} = {sums + ' = ' if sums else ''}{fmt(total)}")
    return lines
