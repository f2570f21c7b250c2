"""How each node of a drawing looks: node kinds, number format, gradient colours, legend.

Kinds of Value (the rule, in order):

- **output**: the root the drawing starts from (double red border);
- **parameter**: a leaf whose label ends in ``.w`` or ``.b``, optionally
  followed by digits, as ``nn`` labels them (``L0.N3.w1``, ``L0.N3.b``)
  (green border);
- **constant**: a leaf the engine made from a plain number
  (``Value.is_constant``), such as the ``2.0`` of ``x * 2.0``: small, grey,
  dashed, its value only and no gradient (the engine does not differentiate
  with respect to it). A constant exponent is not drawn at all: it is part of
  its op, drawn ``**2``;
- **input**: any other leaf (``x``, or a ``Value(3.0)`` without a label)
  (blue border);
- **result**: the result of an operation (thin rounded border).

Numbers are printed in significant digits (4 unless ``precision`` says
otherwise), so a nonzero number never reads as zero: ``8.245e-09``, not
``0.0000`` (:func:`autograd_lite.explanation.number`).

Fill colour shows the gradient: white for ``grad == 0``, deepening to orange
as ``|grad|`` approaches the largest ``|grad|`` in the picture (the intensity
is ``|grad| / max |grad|``); an infinite or NaN gradient is purple.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable

import graphviz

from autograd_lite import OPS, Value
from autograd_lite.explanation import is_constant
from autograd_lite.explanation import number as _number

PARAMETER_LABEL = re.compile(r"\.[wb]\d*$")
# Ops whose operands are not interchangeable: their edges are labelled a and b.
ORDERED_OPS = frozenset({"sub", "div", "pow", "powv"})

BORDER = {
    "output": "#b2182b",
    "parameter": "#1b7837",
    "input": "#2166ac",
    "constant": "#888888",
    "result": "#444444",
    "group": "#1b7837",
}
_KIND_ATTRS = {
    "output": {"style": "filled,bold", "penwidth": "2", "peripheries": "2"},
    "parameter": {"style": "filled,bold", "penwidth": "2"},
    "input": {"style": "filled,bold", "penwidth": "2"},
    "constant": {"style": "filled,dashed", "fontsize": "9", "fontcolor": "#555555"},
    "result": {"style": "filled,rounded"},
    "group": {"shape": "box3d", "penwidth": "1.5"},
}
_WHITE = (255, 255, 255)
_HOT = (240, 128, 40)  # |grad| = max |grad|
NONFINITE_FILL = "#c5a3d9"  # grad is inf or NaN
OP_FILL = "#eeeeee"


def is_parameter(v: Value) -> bool:
    """A leaf labelled like an nn parameter: the label ends in ``.w``/``.b`` (+ digits)."""
    return not v.parents and bool(PARAMETER_LABEL.search(v.label))


def kind(v: Value, root: Value) -> str:
    """'output', 'parameter', 'input', 'constant' or 'result' (see the module docstring)."""
    if v is root:
        return "output"
    if v.parents:
        return "result"
    if is_constant(v):
        return "constant"
    if is_parameter(v):
        return "parameter"
    return "input"


DEFAULT_PRECISION = 4


def number(x: float, precision: int = DEFAULT_PRECISION) -> str:
    """``x`` in ``precision`` significant digits: ``0.5``, ``8.245e-09``, ``1e+300``, ``3.0``.

    A nonzero number never reads as zero, whatever its magnitude.
    """
    return _number(x, precision)


def folded_exponents(order: Iterable[Value]) -> set[Value]:
    """The constant exponents of ``**`` nodes: drawn inside their op (``**2``), not as boxes."""
    folded: set[Value] = set()
    other_uses: set[Value] = set()
    for v in order:
        for position, p in enumerate(v.parents):
            if v.op == "pow" and position == 1 and is_constant(p):
                folded.add(p)
            else:
                other_uses.add(p)
    return folded - other_uses


def largest_magnitude(xs: Iterable[float]) -> float:
    """The largest finite ``|x|`` (0.0 if there is none): the top of the colour scale."""
    return max((abs(x) for x in xs if math.isfinite(x)), default=0.0)


def grad_fill(magnitude: float, largest: float) -> str:
    """Fill colour for ``|grad| = magnitude``: white at 0, orange at ``largest``."""
    if not math.isfinite(magnitude):
        return NONFINITE_FILL
    t = min(magnitude / largest, 1.0) if largest > 0 else 0.0
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(_WHITE, _HOT))
    return f"#{r:02x}{g:02x}{b:02x}"


# Characters a label may hold but DOT text cannot: control characters (NUL stops Graphviz)
# and lone surrogates (not encodable as UTF-8; Python makes them from undecodable bytes).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def visible(s: str) -> str:
    """``s`` with each control character and lone surrogate spelled as its Python escape.

    ``'a\\x00b'`` is drawn as ``a\\x00b`` and ``'\\udcff'`` as ``\\udcff``: the
    reader sees what is there, and Graphviz gets text it can read.
    """
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], s)


def escape(s: str) -> str:
    """``s`` as literal DOT text: :func:`visible`, then Graphviz's escaping of backslashes,
    and ``&`` as ``&amp;`` (Graphviz reads entities in any label: ``&lt;`` would show as ``<``)."""
    return graphviz.escape(visible(s)).replace("&", "&amp;")


def text(lines: Iterable[str]) -> str:
    """A multi-line DOT label whose text is shown literally (no escapes, no HTML).

    Newlines inside a line (a label such as ``"a\\nb"``) become line breaks too;
    other control characters and lone surrogates are shown escaped (:func:`visible`).
    (A text longer than Graphviz reads is refused before ``dot`` runs:
    :func:`viz.drawing.check_labels`.)
    """
    escaped = (escape(line.replace("\r", "")).replace("\n", "\\n") for line in lines)
    return graphviz.nohtml("\\n".join(escaped))


def node_attrs(node_kind: str, fill: str) -> dict[str, str]:
    """Attributes of a box of the given kind ('group' for a collapsed neuron)."""
    attrs = {"shape": "box", "color": BORDER[node_kind], "fillcolor": fill}
    attrs.update(_KIND_ATTRS[node_kind])
    return attrs


def value_node(
    v: Value,
    node_kind: str,
    *,
    show_grad: bool,
    largest: float,
    step: int | None,
    precision: int = DEFAULT_PRECISION,
    name: str | None = None,
) -> tuple[str, dict[str, str]]:
    """Label and attributes of the box of one Value: its name (``name``, else its label),
    data, grad (a constant: its value)."""
    if node_kind == "constant":
        return text([number(v.data, precision)]), node_attrs(node_kind, "#ffffff")
    shown = v.label if name is None else name
    head = " ".join(part for part in (f"#{step}" if step else "", shown) if part)
    lines = [head] if head else []
    lines.append(f"data {number(v.data, precision)}")
    if show_grad:
        lines.append(f"grad {number(v.grad, precision)}")
    fill = grad_fill(abs(v.grad), largest) if show_grad else "#ffffff"
    return text(lines), node_attrs(node_kind, fill)


def op_symbol(op: str) -> str:
    """The op's symbol from the op table (its name if the table does not know it)."""
    entry = OPS.get(op)
    return entry.symbol if entry is not None else op


def op_label(v: Value, precision: int = DEFAULT_PRECISION) -> str:
    """The op's symbol; ``**2`` for a power whose exponent is a constant."""
    if v.op == "pow" and is_constant(v.parents[1]):
        k = v.parents[1].data
        exponent = str(int(k)) if k.is_integer() and abs(k) < 1e15 else number(k, precision)
        return f"**{exponent}"
    return op_symbol(v.op)


def op_node(v: Value, precision: int = DEFAULT_PRECISION) -> tuple[str, dict[str, str]]:
    """Label and attributes of the small node of the operation that made ``v``."""
    attrs = {
        "shape": "ellipse",
        "style": "filled",
        "fillcolor": OP_FILL,
        "color": "#999999",
        "fontsize": "10",
        "margin": "0.03,0.01",
        "height": "0.3",
        "tooltip": escape(v.op),
    }
    return text([op_label(v, precision)]), attrs


def operand_label(v: Value, position: int) -> str | None:
    """'a'/'b' on the edges into ops whose operand order matters (a − b, a / b, a ** b)."""
    if v.op == "pow" and is_constant(v.parents[1]):
        return None  # the exponent is drawn inside the op: one edge, nothing to tell apart
    if v.op in ORDERED_OPS and len(v.parents) == 2:
        return "ab"[position]
    return None


def legend(
    *,
    show_grad: bool,
    largest: float,
    number_backward: bool,
    kinds: Iterable[str],
    ordered: bool = False,
    precision: int = DEFAULT_PRECISION,
) -> str:
    """An HTML-like graph label that explains borders, fill and step numbers."""
    names = {
        "output": "output",
        "parameter": "parameter (.w .b)",
        "input": "input",
        "constant": "constant (no grad)",
        "result": "op result",
        "group": "neuron (collapsed)",
    }
    present = set(kinds)
    kinds_row = [
        f'<TD COLOR="{BORDER[k]}" BORDER="2">{names[k]}</TD>' for k in names if k in present
    ]
    notes_row = []
    if show_grad:
        scale = html.escape(number(largest, precision))
        notes_row.append(f'<TD BORDER="0">fill: |grad| / max |grad| (max {scale})</TD>')
        for t in (0.0, 0.25, 0.5, 0.75, 1.0):
            notes_row.append(f'<TD BGCOLOR="{grad_fill(t, 1.0)}">{t:g}</TD>')
    if number_backward:
        notes_row.append('<TD BORDER="0">#k: k-th node the backward pass visits</TD>')
    if ordered:
        notes_row.append('<TD BORDER="0">a, b: the operands of a − b, a / b, a ** b</TD>')
    rows = "".join(
        '<TR><TD BORDER="0">'
        '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="3" CELLPADDING="2">'
        f"<TR>{''.join(row)}</TR></TABLE></TD></TR>"
        for row in (kinds_row, notes_row)
        if row
    )
    return f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>>'
