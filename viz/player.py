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

A gradient reads "—" in the picture (and "(not yet)" in the panel) until the
backward pass has reached its node. Clicking a node (a Value's box or the op
that computes it) shows its ledger, :func:`autograd_lite.explain` for that
node. Every node is named as the panel names it (its label, or what it
computes: ``x1·w1``), in the picture and in its tooltip; the drawing's node ids
(``v3``, ``op3``) stay inside the page's data attributes. With
``collapse=True`` a step is a whole neuron (see :mod:`viz.collapse`).
"""

from __future__ import annotations

import hashlib
import html
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
    defined,
    ledger,
    ledger_lines,
    local_derivatives,
    names,
    rule_text,
    wrapped,
    written,
)

from . import style
from .collapse import _group_outputs, fold
from .dot import DEFAULT_MAX_LAYOUT, DEFAULT_MAX_NODES, draw_dot
from .embed import Page, script_json

_BLANK = "(not yet)"  # in the panel: a gradient the backward pass has not reached yet
_QUICK_LAYOUT = 200  # Values; a bigger graph gets a quicker layout
# What the page does not need from Graphviz's SVG: the prolog, comments, element ids, and the
# line breaks between elements (no text holds one: labels are drawn with visible escapes).
_SVG_CLUTTER = re.compile(r'<!--.*?-->\n?| id="(?:node|edge|a_node|a_edge)\d+"|(?<=>)\n(?=<)', re.S)
# A plain edge: a black line and a black arrowhead (an edge with a label or a style is not).
_BLACK_EDGE = re.compile(
    r'<g class="edge">(<title>[^<]*</title>)<path fill="none" stroke="black" (d="[^"]*")/>'
    r'<polygon fill="black" stroke="black" (points="[^"]*")/></g>'
)
# A polygon's points: Graphviz repeats the first point at the end, SVG closes it anyway.
_POINTS = re.compile(r' points="(([^ "]+) [^"]*) \2"')
# The lines' and shapes' coordinates: Graphviz writes a curve's points to 0.01 pt.
_GEOMETRY = re.compile(r' (?:d|points)="[^"]*"')
_HUNDREDTHS = re.compile(r"\d+\.\d{2,}")
# Graphviz titles each node, edge and cluster with its id (a tooltip in a browser).
_TITLED = re.compile(r'<g class="(node|edge|cluster)"([^>]*)>\n?<title>([^<]*)</title>')


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
    max_layout: int | None = DEFAULT_MAX_LAYOUT,
) -> Player:
    """A step-through player of ``root``'s forward and backward pass (see the module docstring).

    The options are ``draw_dot``'s: ``rankdir``, ``group`` (neurons in
    clusters), ``collapse`` (one box per neuron; a backward step is then a
    whole neuron), ``max_nodes``, ``precision`` (significant digits), ``max_layout``.
    Needs Graphviz's ``dot`` for the layout. (While it draws, it briefly sets
    the Values' ``grad``, and restores them.)
    """
    if not isinstance(root, Value):
        raise TypeError(f"viz.player: root must be a Value, got {type(root).__name__}")
    order = topological_order(root)
    timeline = _Timeline(analyse(root, order), collapse=collapse, precision=precision)
    graph = timeline.graph  # with the neurons' outputs named by their neuron when collapsed
    # The static picture shows ∂root/∂v whether or not root.backward() was called: set the
    # grads for the drawing only. Each box shows the name the panel calls it by (x1·w1).
    saved = [v.grad for v in order]
    try:
        for v in order:
            v.grad = graph.grads[v]
        drawing = draw_dot(
            root,
            rankdir=rankdir,
            group=group,
            collapse=collapse,
            max_nodes=max_nodes,
            max_layout=max_layout,
            precision=precision,
            legend=False,  # its colour scale would give the largest gradient away
            names={v: graph.name[v] for v in order if not v.is_constant},
        )
    finally:
        for v, g in zip(order, saved):
            v.grad = g
    if len(order) > _QUICK_LAYOUT:
        # Fewer rounds of crossing reduction: half the layout time of a big graph.
        drawing.graph_attr["mclimit"] = "0.3"
    data = timeline.data()
    svg = _reader_titles(_compact(drawing.pipe(format="svg").decode("utf-8")), data["names"])
    return Player(svg, data, f"backprop of {root.label or 'a graph'} — autograd-lite")


def _reader_titles(svg: str, names: dict[str, str]) -> str:
    """Each node's and edge's tooltip in the reader's names (``x1·w1``, ``x1 → x1·w1``); the
    drawing's ids move to ``data-node`` / ``data-from`` / ``data-to``; clusters lose theirs
    (their label is drawn)."""

    def text(s: str) -> str:
        return html.escape(style.visible(s))

    def retitle(match: re.Match[str]) -> str:
        kind, attributes, ident = match.group(1), match.group(2), html.unescape(match.group(3))
        if kind == "cluster":
            return f'<g class="cluster"{attributes}>'
        if kind == "node":
            return (
                f'<g class="node" data-node="{text(ident)}"{attributes}>'
                f"<title>{text(names.get(ident, ''))}</title>"
            )
        tail, _, head = ident.partition("->")
        return (
            f'<g class="edge" data-from="{text(tail)}" data-to="{text(head)}"{attributes}>'
            f"<title>{text(names.get(tail, ''))} → {text(names.get(head, ''))}</title>"
        )

    return _TITLED.sub(retitle, svg)


def _compact(svg: str) -> str:
    """Graphviz's SVG without its prolog, comments, ids and line breaks, and with what many
    elements repeat said once where SVG inherits it: the text attributes on the root, a plain
    edge's black stroke on its group (its arrowhead's black fill is SVG's default); no
    polygon's closing point twice, coordinates to 0.1 pt. The same picture, with or without
    the page's style sheet, in under two thirds of the bytes."""
    svg = _SVG_CLUTTER.sub("", svg[svg.index("<svg") :])
    svg = _BLACK_EDGE.sub(
        r'<g class="edge" stroke="black">\1<path fill="none" \2/><polygon \3/></g>', svg
    )
    svg = _POINTS.sub(r' points="\1"', svg).replace("&#45;", "-")  # Graphviz's minus sign
    svg = _GEOMETRY.sub(lambda m: _HUNDREDTHS.sub(_tenths, m.group()), svg)
    svg = svg.replace(' text-anchor="middle"', "").replace(
        ' font-family="Helvetica,sans-Serif"', ""
    )
    svg = svg.replace(' font-size="11.00"', "")
    return svg.replace(
        "<svg ",
        '<svg text-anchor="middle" font-family="Helvetica,sans-Serif" font-size="11" ',
        1,
    )


def _tenths(match: re.Match[str]) -> str:
    """A coordinate to 0.1 pt (under a tenth of a pixel: the same picture): 12.34 -> 12.3."""
    return f"{float(match.group()):.1f}".removesuffix(".0")


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
            # A neuron's unlabelled output is called by its neuron's name (L1.N3), the name
            # on its box, and the Values computed from it say so (L1.N3 − max#2).
            given = {o[0]: n for n, o in outputs.items() if len(o) == 1 and not o[0].label}
            self.graph = graph = graph._replace(name=names(order, given=given))
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
        """What player.js needs: the steps, each box's ledger and final gradient, the names.

        Texts player.js can write from these names are not stored (see player.js's header):
        the heading of each backward step, and a Value's ledger's first line.
        """
        return {
            "forward": self._forward(),
            "backward": self._backward(),  # also makes ledger and parenthesised
            "ledger": self.ledgers,
            "constants": [b for v, b in self.box_of.items() if v.is_constant],
            "names": self.names(),
            "out": wrapped(self.graph.output, self.graph.name),
            "parenthesised": self.parenthesised,
        }

    def names(self) -> dict[str, str]:
        """Each box and op node of the drawing -> the name a reader knows it by."""
        name, fmt = self.graph.name, self.fmt
        found: dict[str, str] = {}
        for v, box in self.box_of.items():
            if box in self.group_name:
                found[box] = f"neuron {self.group_name[box]}"
            elif box not in found:
                found[box] = name[v]
        for i, v in enumerate(self.graph.order):
            if v.parents:  # op{i} computes v{i}: its op applied to the operands
                found[f"op{i}"] = written(v, name, fmt)
        return found

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
                text = f"{defined(v, name, self.fmt)} = {self.fmt(v.data)}"
            else:
                text = f"{name[v]} = {self.fmt(v.data)}, a leaf"
            steps.append({"show": show, "text": text})
        if pending and steps:
            steps[-1]["show"].extend(pending)
        return steps

    def _backward(self) -> list[dict]:
        graph, name = self.graph, self.graph.name
        grads = dict.fromkeys(graph.order, 0.0)
        grads[graph.output] = 1.0
        reached = {graph.output}
        steps: list[dict] = []
        self.ledgers: dict[str, str] = {}
        self.parenthesised: list[str] = []  # boxes written ∂L/∂(x1·w1), as explain writes them
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
                            f"{wrapped(p, name)}.grad {had} → {self.fmt(grads[p])}"
                        )
            for p in touched:
                if p in self.shown_by:
                    shown[self.shown_by[p]] = self.fmt(grads[p])
            if k == 1:
                shown[box] = self.fmt(1.0)
            parents = sorted({self.box_of[p] for p in touched if p in self.box_of} - {box})
            step: dict[str, Any] = {"node": box, "to": parents, "grads": shown}
            v = members[0]
            if box in self.group_name:
                lines, self.ledgers[box] = self._group_text(box, members, grads, touched)
            else:
                lines = self._value_head(v, grads[v], k == 1) + lines
                if v is graph.output:
                    self.ledgers[box] = ledger(graph, v, self.precision)
                else:
                    # player.js shows the ledger under this step's text, and writes its first
                    # line, "∂L/∂v = Σ over the uses of v: …", from the names.
                    step["built"] = True
                    self.ledgers[box] = "\n".join(ledger_lines(graph, v, self.precision)[1:])
                    if wrapped(v, name) != name[v]:
                        self.parenthesised.append(box)
            # player.js heads the text "backward step k of n" (as it does a forward step's).
            step["text"] = "\n".join(lines)
            steps.append(step)
        return steps

    def _value_head(self, v: Value, g: float, first: bool) -> list[str]:
        name, out = self.graph.name, wrapped(self.graph.output, self.graph.name)
        upstream = f"∂{out}/∂{wrapped(v, name)} = {self.fmt(g)}"
        lines = [f"{name[v]} is the output: backward starts from {upstream}"] if first else []
        if not v.parents:
            if not first:
                lines.append(f"{name[v]} is a leaf: every use has been added: {upstream} is final")
            return lines
        rule = RULES.get(v.op)
        pattern = f" ({rule.pattern})" if rule else ""
        return [
            *lines,
            f"{defined(v, name, self.fmt)}{pattern}",
            f"upstream gradient {upstream}; each parent gets local derivative × upstream:",
        ]

    def _group_text(
        self,
        box: str,
        members: Sequence[Value],
        grads: dict[Value, float],
        touched: dict[Value, str],
    ) -> tuple[list[str], str]:
        name, out = self.graph.name, wrapped(self.graph.output, self.graph.name)
        ops = sum(1 for m in members if m.parents)
        lines = [f"neuron {self.group_name[box]}: its {ops} ops, one after another"]
        outputs = [m for m, b in self.shown_by.items() if b == box]
        if outputs:
            o = outputs[0]
            rule = RULES.get(o.op)
            pattern = f" ({rule.pattern})" if rule else ""
            lines.append(
                f"upstream gradient ∂{out}/∂{wrapped(o, name)} = {self.fmt(grads[o])}, "
                f"{defined(o, name, self.fmt)} = {self.fmt(o.data)}{pattern}"
            )
        params = sorted((m for m in members if style.is_parameter(m)), key=self.index.__getitem__)
        if params:
            lines.append("parameters:")
            lines.extend(f"  {wrapped(p, name)}.grad = {self.fmt(grads[p])}" for p in params)
        outside = [p for p in touched if p not in members]
        if outside:
            lines.append("sends back to:")
            for p in outside:
                owner = self.group_name.get(self.box_of.get(p, ""))
                shown = f"{owner}'s output" if owner else name[p]
                lines.append(f"  → {shown}: grad {touched[p]} → {self.fmt(grads[p])}")
        return lines, "\n".join(lines[:2] + lines[2 : 3 + len(params)])
