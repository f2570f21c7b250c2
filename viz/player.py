"""``viz.player``: watch backprop happen, one node at a time, in a self-contained HTML page.

The page holds Graphviz's drawing of the graph (the SVG ``viz.to_svg`` makes),
a small plain script (``viz/player.js``) and its style (``viz/player.css``),
all inlined: one file, no network request, opens from ``file://``. Where
scripts do not run (a notebook viewed on GitHub) it is the finished static
picture.

The timeline has two parts:

1. **forward**: the Values appear in topological order, each with its data;
2. **backward**: one node per step in exactly ``backward``'s order,
   ``reversed(topological_order(root))`` (constants, which get no gradient,
   are skipped). The current node is highlighted and the panel writes the
   chain rule out with numbers: the upstream gradient ∂L/∂v, then for each
   parent the local derivative with its rule, the product, and the parent's
   gradient before → after the ``+=``, so a fork's sum is seen being built.

A gradient reads "—" until the backward pass has reached its node. Clicking a
node shows its ledger, :func:`autograd_lite.explain` for that node. With
``collapse=True`` a step is a whole neuron (see :mod:`viz.collapse`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

from autograd_lite import Value, topological_order
from autograd_lite.explanation import (
    RULES,
    Graph,
    analyse,
    contribution,
    ledger,
    local_derivatives,
    rule_text,
    written,
)

from . import style
from .collapse import _group_outputs, fold
from .dot import DEFAULT_MAX_NODES, draw_dot
from .embed import Page, script_json

_BLANK = "—"  # a gradient the backward pass has not reached yet
_QUICK_LAYOUT = 200  # Values; a bigger graph gets a quicker layout
# What the page does not need from Graphviz's SVG: the prolog, comments, element ids.
_SVG_CLUTTER = re.compile(r'<!--.*?-->\n?| id="(?:node|edge|a_node|a_edge)\d+"', re.S)


class Player(Page):
    """The step-through player of one graph; ``html()`` is the page, Jupyter shows it inline.

    Made by :func:`player`, which computes everything at once: a Player is a
    snapshot, later changes to the Values do not show. ``svg`` is Graphviz's
    picture of the finished backward pass, ``data`` the timeline player.js
    plays (``forward`` and ``backward`` steps, each node's ``ledger``).
    """

    def __init__(self, svg: str, data: dict[str, Any], title: str) -> None:
        self.svg = svg
        self.data = data
        self.title = title

    def _fragment(self) -> str:
        """The player as an HTML element: style, picture, data and script."""
        css = _package_text("player.css")
        js = _package_text("player.js")
        data = script_json(self.data)  # no label can close or open an element
        # Named by its content, so a notebook that shows it is the same file run after run.
        ident = "agl-player-" + hashlib.sha256((self.svg + data).encode()).hexdigest()[:12]
        return (
            f'<div class="agl-player" id="{ident}" tabindex="0">'
            f"<style>{css}</style>"
            f'<div class="agl-stage">{self.svg}</div>'
            f'<script type="application/json" class="agl-data">{data}</script>'
            f"<script>{js}</script>"
            "</div>"
        )


def player(
    root: Value,
    *,
    rankdir: str = "LR",
    group: bool = False,
    collapse: bool = False,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    precision: int = style.DEFAULT_PRECISION,
) -> Player:
    """A step-through player of ``root``'s forward and backward pass (see the module docstring).

    The options are ``draw_dot``'s: ``rankdir``, ``group`` (neurons in
    clusters), ``collapse`` (one box per neuron; a backward step is then a
    whole neuron), ``max_nodes``, ``precision`` (significant digits).
    Needs Graphviz's ``dot`` for the layout. (While it draws, it briefly sets
    the Values' ``grad`` and empty labels, and restores them.)
    """
    if not isinstance(root, Value):
        raise TypeError(f"viz.player: root must be a Value, got {type(root).__name__}")
    order = topological_order(root)
    graph = analyse(root, order)
    # The static picture shows ∂root/∂v whether or not root.backward() was called, and
    # unlabelled results show the name the panel calls them by (v4): set for the drawing only.
    saved = [(v.grad, v.label) for v in order]
    try:
        for v in order:
            v.grad = graph.grads[v]
            if not v.is_constant:
                v.label = graph.name[v]
        drawing = draw_dot(
            root,
            rankdir=rankdir,
            group=group,
            collapse=collapse,
            max_nodes=max_nodes,
            precision=precision,
            legend=False,  # its colour scale would give the largest gradient away
        )
    finally:
        for v, (g, label) in zip(order, saved):
            v.grad, v.label = g, label
    if len(order) > _QUICK_LAYOUT:
        # Fewer rounds of crossing reduction: half the layout time of a big graph.
        drawing.graph_attr["mclimit"] = "0.3"
    svg = _compact(drawing.pipe(format="svg").decode("utf-8"))
    data = _Timeline(graph, collapse=collapse, precision=precision).data()
    return Player(svg, data, f"backprop of {root.label or 'a graph'} — autograd-lite")


def _compact(svg: str) -> str:
    """Graphviz's SVG without its prolog, comments and ids, and with the text attributes that
    nearly every label repeats said once on the root (SVG inherits them): a third smaller,
    the same picture, with or without the page's style sheet."""
    svg = _SVG_CLUTTER.sub("", svg[svg.index("<svg") :])
    svg = svg.replace(' text-anchor="middle"', "").replace(
        ' font-family="Helvetica,sans-Serif"', ""
    )
    svg = svg.replace(' font-size="11.00"', "")
    return svg.replace(
        "<svg ",
        '<svg text-anchor="middle" font-family="Helvetica,sans-Serif" font-size="11" ',
        1,
    )


def _package_text(name: str) -> str:
    return resources.files("viz").joinpath(name).read_text(encoding="utf-8")


class _Timeline:
    """The forward and backward steps of a graph, as boxes of its drawing and texts."""

    def __init__(self, graph: Graph, *, collapse: bool, precision: int) -> None:
        self.graph = graph
        self.precision = precision
        order, root = graph.order, graph.output
        index = {v: i for i, v in enumerate(order)}
        # units: (box name, members in backward's order, sort key = topological position)
        self.box_of: dict[Value, str] = {}
        self.shown_by: dict[Value, str] = {}  # Values whose grad a box displays
        self.group_name: dict[str, str] = {}
        units: list[tuple[str, list[Value], int]] = []
        if collapse:
            groups, folded, boxes = fold(order, root)
            outputs = _group_outputs(order, groups, root)
            for b in boxes:
                if isinstance(b, int):
                    v = order[b]
                    self.box_of[v] = f"v{b}"
                    self.shown_by[v] = f"v{b}"
                    units.append((f"v{b}", [v], b))
                    continue
                for v in b.members:
                    self.box_of[v] = b.node
                outs = outputs.get(b.name, [])
                if len(outs) == 1:
                    self.shown_by[outs[0]] = b.node
                self.group_name[b.node] = b.name
                members = sorted(b.members, key=index.__getitem__, reverse=True)
                units.append((b.node, members, b.last))
        else:
            hidden = style.folded_exponents(order)
            for i, v in enumerate(order):
                if v not in hidden:
                    self.box_of[v] = self.shown_by[v] = f"v{i}"
                    units.append((f"v{i}", [v], i))
        self.units = sorted(units, key=lambda u: u[2])
        self.index = index

    def fmt(self, x: float) -> str:
        return style.number(x, self.precision)

    def data(self) -> dict[str, Any]:
        """What player.js needs: the steps, each box's ledger and final gradient."""
        return {
            "forward": self._forward(),
            "backward": self._backward(),
            "ledger": self.ledgers,
            "constants": [b for v, b in self.box_of.items() if v.is_constant],
        }

    def _forward(self) -> list[dict]:
        name = self.graph.name
        steps: list[dict] = []
        pending: dict[str, None] = {}  # constant boxes, shown with their first consumer
        for box, members, _ in self.units:
            v = members[0]
            if all(m.is_constant for m in members):
                pending[box] = None
                continue
            show = [*pending, box]
            pending.clear()
            if box in self.group_name:
                out = [m for m, b in self.shown_by.items() if b == box]
                text = f"neuron {self.group_name[box]}"
                if out:
                    text += f", output {self.fmt(out[0].data)}"
            elif v.parents:
                show.insert(-1, f"op{box[1:]}")  # the box last: it is the step's current node
                text = f"{name[v]} = {written(v, name, self.fmt)} = {self.fmt(v.data)}"
            else:
                text = f"{name[v]} = {self.fmt(v.data)}, a leaf"
            steps.append({"show": show, "text": text})
        if pending and steps:
            steps[-1]["show"].extend(pending)
        return steps

    def _backward(self) -> list[dict]:
        graph, name, out = self.graph, self.graph.name, self.graph.name[self.graph.output]
        grads = dict.fromkeys(graph.order, 0.0)
        grads[graph.output] = 1.0
        reached = {graph.output}
        steps: list[dict] = []
        self.ledgers: dict[str, str] = {}
        units = [u for u in reversed(self.units) if not all(m.is_constant for m in u[1])]
        for k, (box, members, _) in enumerate(units, start=1):
            shown: dict[str, str] = {}
            lines: list[str] = []
            touched: dict[Value, str] = {}  # parent -> its grad before this step
            for v in members:
                g = grads[v]
                for position, (p, local) in enumerate(zip(v.parents, local_derivatives(v))):
                    if p.is_constant:
                        continue
                    had = self.fmt(grads[p]) if p in reached else _BLANK
                    touched.setdefault(p, had)
                    term = contribution(local, g)
                    grads[p] += term
                    reached.add(p)
                    if box not in self.group_name:
                        rule = rule_text(v, position, local, name, self.fmt)
                        lines.append(
                            f"  → {name[p]}: {rule}; × {self.fmt(g)} = {self.fmt(term)}; "
                            f"{name[p]}.grad {had} → {self.fmt(grads[p])}"
                        )
            for p in touched:
                if p in self.shown_by:
                    shown[self.shown_by[p]] = self.fmt(grads[p])
            if k == 1:
                shown[box] = self.fmt(1.0)
            if box in self.group_name:
                head, ledger_text = self._group_text(box, members, grads, touched)
                lines = head
            else:
                v = members[0]
                lines = self._value_head(v, grads[v], k == 1) + lines
                ledger_text = ledger(graph, v, self.precision)
            self.ledgers[box] = ledger_text
            text = "\n".join([f"backward step {k} of {len(units)}", *lines])
            parents = sorted({self.box_of[p] for p in touched if p in self.box_of} - {box})
            step = {"node": box, "to": parents, "grads": shown, "text": text}
            if box not in self.group_name and members[0] is not graph.output:
                # player.js appends the node's ledger under this heading (stored once).
                step["built"] = f"how ∂{out}/∂{name[members[0]]} was built:"
            steps.append(step)
        return steps

    def _value_head(self, v: Value, g: float, first: bool) -> list[str]:
        name, out = self.graph.name, self.graph.name[self.graph.output]
        upstream = f"∂{out}/∂{name[v]} = {self.fmt(g)}"
        lines = [f"{name[v]} is the output: backward starts from {upstream}"] if first else []
        if not v.parents:
            if not first:
                lines.append(f"{name[v]} is a leaf: every use has been added: {upstream} is final")
            return lines
        rule = RULES.get(v.op)
        pattern = f" ({rule.pattern})" if rule else ""
        return [
            *lines,
            f"{name[v]} = {written(v, name, self.fmt)}{pattern}",
            f"upstream gradient {upstream}; each parent gets local derivative × upstream:",
        ]

    def _group_text(
        self,
        box: str,
        members: Sequence[Value],
        grads: dict[Value, float],
        touched: dict[Value, str],
    ) -> tuple[list[str], str]:
        name, out = self.graph.name, self.graph.name[self.graph.output]
        ops = sum(1 for m in members if m.parents)
        lines = [f"neuron {self.group_name[box]}: its {ops} ops, one after another"]
        outputs = [m for m, b in self.shown_by.items() if b == box]
        if outputs:
            o = outputs[0]
            rule = RULES.get(o.op)
            pattern = f" ({rule.pattern})" if rule else ""
            lines.append(
                f"upstream gradient ∂{out}/∂out = {self.fmt(grads[o])}, out = "
                f"{written(o, name, self.fmt)} = {self.fmt(o.data)}{pattern}"
            )
        params = sorted((m for m in members if style.is_parameter(m)), key=self.index.__getitem__)
        if params:
            lines.append("parameters:")
            lines.extend(f"  {name[p]}.grad = {self.fmt(grads[p])}" for p in params)
        outside = [p for p in touched if p not in members]
        if outside:
            lines.append("sends back to:")
            for p in outside:
                owner = self.group_name.get(self.box_of.get(p, ""))
                shown = f"{owner}'s output" if owner else name[p]
                lines.append(f"  → {shown}: grad {touched[p]} → {self.fmt(grads[p])}")
        return lines, "\n".join(lines[:2] + lines[2 : 3 + len(params)])
