"""autograd_lite.explain: ∂output/∂node as the sum of local derivative × upstream gradient.

Checked on hand-made graphs (the numbers a student would write) and on
random graphs (hypothesis), where the printed terms must add up to what
``backward`` puts in ``.grad``; and every op of the op table has a rule text.
"""

from __future__ import annotations

import inspect
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from viz_graphs import nonzero_numbers

from autograd_lite import OPS, Value, explain, topological_order
from autograd_lite.explanation import RULES, number


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_rule_text_with_one_derivative_per_operand(name):
    assert name in RULES, f"explain.RULES has no rule text for op {name!r}"
    arity = len(inspect.signature(OPS[name].forward).parameters)
    rule = RULES[name]
    assert len(rule.derivatives) == arity
    assert rule.pattern and "{a}" in rule.expression
    assert rule.expression.format(a="x", b="y")  # every placeholder is a or b


def test_a_fork_sums_one_term_per_use():
    a = Value(3.0, label="a")
    b = a * a + a
    b.label = "b"
    b.backward()
    text = explain(b, a)
    lines = text.splitlines()
    assert lines[0].startswith("∂b/∂a = Σ")
    assert lines[1] == "  b = a·a + a: ∂(a·a + a)/∂a = 1; × ∂b/∂b = 1.0 → 1.0"
    # The unlabelled a·a is named by what it computes, in parentheses after ∂.
    assert lines[2] == lines[3] == "  a·a: ∂(a·a)/∂a = a = 3.0; × ∂b/∂(a·a) = 1.0 → 3.0"
    assert lines[-1] == "∂b/∂a = 1.0 + 3.0 + 3.0 = 7.0" and a.grad == 7.0


def test_mul_rule_reads_with_the_operands_names_and_precision_rounds():
    x, w = Value(0.1, label="x"), Value(3.0, label="w")
    y = (x * w).tanh()
    y.label = "y"
    full = explain(y, x)  # needs no backward: it computes the gradients itself
    assert "∂(x·w)/∂x = w = 3.0" in full
    y.backward()
    assert full.splitlines()[-1] == f"∂y/∂x = {x.grad!r}"
    short = explain(y, x, precision=3)
    assert short.splitlines()[-1] == f"∂y/∂x = {number(x.grad, 3)}"


def test_output_constants_and_bad_arguments():
    x = Value(2.0, label="x")
    y = x**2 + 3 * x
    y.label = "y"
    assert explain(y, y).startswith("∂y/∂y = 1.0")
    three = y.parents[1].parents[0]
    assert three.is_constant and "constant" in explain(y, three)
    assert "∂(x**2.0)/∂x" in explain(y, x)
    with pytest.raises(ValueError, match="not in the graph"):
        explain(y, Value(1.0))
    with pytest.raises(TypeError, match="Values"):
        explain(y, 2.0)
    with pytest.raises(ValueError, match="precision"):
        explain(y, x, precision=0)


def test_a_zero_local_derivative_adds_exactly_zero_even_times_inf():
    x = Value(-1.0, label="x")
    y = x.relu() * math.inf
    text = explain(y, x)
    assert text.splitlines()[-1].endswith("= 0.0")
    y = Value(-1.0, label="y")
    z = y.relu() ** 0.5  # relu'(−1) = 0 times the infinite slope of √ at 0
    z.backward()
    assert explain(z, y).splitlines()[-1] == f"∂out/∂y = {y.grad!r}" == "∂out/∂y = 0.0"


def test_unlabelled_nodes_are_named_by_what_they_compute_never_by_an_id():
    """x1·w1; (a + b)·c and a − (b − c) as the ops require; long ones by op and place."""
    from autograd_lite.explanation import MAX_NAME, names

    x1, w1, b = Value(2.0, label="x1"), Value(-3.0, label="w1"), Value(1.0, label="b")
    c = Value(0.5, label="c")
    s = x1 * w1 + b
    t = (s * c - (b - c)).tanh()
    free = Value(4.0)  # a leaf without a label
    deep = t
    for _ in range(6):
        deep = deep * deep + free
    order = topological_order(deep)
    name = names(order)
    assert name[s] == "x1·w1 + b"
    assert name[s.parents[0]] == "x1·w1"
    assert name[t] == "tanh((x1·w1 + b)·c − (b − c))"
    assert name[free] == "leaf#1"
    assert name[deep] == "out"
    assert "product#3" in name.values()  # (tanh(…)·tanh(…) + leaf#1)·(…): too long to write
    assert name[deep.parents[0]] == "product#8" and name[deep.parents[0].parents[0]] == (
        "product#7 + leaf#1"  # written with the short names of its operands
    )
    assert all(len(n) <= MAX_NAME for v, n in name.items() if not v.label)
    assert not any(re.fullmatch(r"(v|op)\d+", n) for n in name.values())
    text = explain(deep, s, precision=4)
    assert text.startswith("∂out/∂(x1·w1 + b) = Σ over the uses of x1·w1 + b")


# ---- random graphs ---------------------------------------------------------------------------

UNARY = [
    lambda a: a.tanh(),
    lambda a: a.sigmoid(),
    lambda a: a.relu(),
    lambda a: -a,
    lambda a: a**2,
    lambda a: 3.0 * a,
    lambda a: (a * 0.5).exp(),
]
BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a.max(b),
    lambda a, b: a / (b * b + 1.0),
]


@st.composite
def graphs(draw):
    """A random DAG over 2..4 leaves in which nodes are reused (forks)."""
    leaves = [
        Value(draw(st.floats(-2, 2, allow_nan=False)), label=f"x{i}")
        for i in range(draw(st.integers(2, 4)))
    ]
    nodes = list(leaves)
    for _ in range(draw(st.integers(1, 14))):
        if draw(st.booleans()):
            f = draw(st.sampled_from(UNARY))
            v = f(draw(st.sampled_from(nodes)))
        else:
            f = draw(st.sampled_from(BINARY))
            v = f(draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes)))
        nodes.append(v.tanh() if abs(v.data) > 1e3 else v)
    out = nodes[-1]
    for other in nodes[-4:-1]:
        out = out + other
    reached = set(topological_order(out))
    return out, [v for v in nodes if v in reached and not v.is_constant]


TERM = re.compile(r"→ (\S+)$")


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_terms_add_up_to_the_grad_backward_gives(graph):
    out, nodes = graph
    out.backward()
    for node in nodes:
        text = explain(out, node)
        terms = [float(m.group(1)) for line in text.splitlines() if (m := TERM.search(line))]
        total = float(text.splitlines()[-1].rsplit("= ", 1)[1])
        if node is out:
            assert node.grad == 1.0 == total
            continue
        assert total == node.grad  # the same sum, in the same order, as backward
        # The terms are the numbers shown: their exact sum is the grad up to the rounding of
        # a float sum, which is relative to the size of the terms, not of their (cancelling) sum.
        scale = math.fsum(abs(t) for t in terms)
        assert abs(math.fsum(terms) - node.grad) <= 1e-12 * scale


# ---- numbers that never read as zero ---------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(nonzero_numbers(), st.integers(1, 8))
def test_a_nonzero_number_never_reads_as_zero(x, precision):
    text = number(x, precision)
    assert float(text) != 0.0, text
    assert float(text) == pytest.approx(x, rel=10.0 ** (1 - precision))
    assert number(x) == repr(x)  # full precision by default


def test_number_examples():
    assert number(8.244614546626394e-09, 4) == "8.245e-09"
    assert number(3.0, 4) == "3.0" and number(0.0, 4) == "0.0" and number(-2.5e-5, 4) == "-2.5e-05"
    assert number(-0.0, 4) == "0.0" and number(-0.0) == "-0.0"  # full precision keeps the sign
    assert number(5e-324, 4) == "4.941e-324" and number(1e300, 4) == "1e+300"
    assert number(math.inf, 4) == "inf" and number(math.nan, 4) == "nan"
