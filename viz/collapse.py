"""The collapsed drawing: one node per neuron (labelled group), for graphs too big to read.

Every Value that :func:`viz.groups.assign_groups` puts in a group (``L0.N3``)
is folded into one box for that group, which shows the group's name, how many
parameters and operations it holds, and its output (data and grad) when it has
exactly one Value used outside it. Values outside any group (inputs, the loss,
the output) are drawn as usual, with their op nodes. The edges between the
same two nodes are merged into one, labelled ``×k`` when it stands for k
edges of the full graph; edges inside a group disappear.

A group's fill shows the largest ``|grad|`` of its parameters (of its Values
if it has no parameters), relative to the largest in the picture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from autograd_lite import Value

from . import style
from .drawing import Drawing, GraphTooLargeError
from .groups import Node, add_clustered, assign_groups


@dataclass
class _Group:
    """The Values folded into one collapsed node."""

    name: str
    node: str
    members: list[Value] = field(default_factory=list)
    last: int = 0  # topological index of the last member: backward reaches it first


def fold(
    order: Sequence[Value], root: Value
) -> tuple[dict[Value, str], dict[str, _Group], list[_Group | int]]:
    """Each Value's group, the groups by name, and the boxes to draw in topological order.

    A box is a group (drawn ``g0``, ``g1``, ... in order of first appearance)
    or the topological index of an ungrouped Value (drawn ``v<i>``); constant
    exponents, drawn inside their op, get no box.
    """
    groups = assign_groups(order, root)
    folded: dict[str, _Group] = {}
    boxes: list[_Group | int] = []
    hidden = style.folded_exponents(order)
    for i, v in enumerate(order):
        if v in hidden:
            continue
        name = groups.get(v)
        if name is None:
            boxes.append(i)
            continue
        if name not in folded:
            folded[name] = _Group(name, f"g{len(folded)}")
            boxes.append(folded[name])
        folded[name].members.append(v)
        folded[name].last = i
    return groups, folded, boxes


def draw_collapsed(
    graph: Drawing,
    root: Value,
    order: Sequence[Value],
    *,
    show_grad: bool,
    max_nodes: int | None,
    number_backward: bool,
    max_edges: int | None = None,
    group: bool,
    legend: bool,
    precision: int = style.DEFAULT_PRECISION,
    names: Mapping[Value, str] | None = None,
) -> None:
    """Add the collapsed picture of ``order`` to ``graph`` (see the module docstring);
    ``names`` as :func:`viz.draw_dot`'s."""
    # Neurons of adjacent layers are fully connected: merge parallel edge runs, spread ranks;
    # neurons of a layer sit closer, so that a wide layer drawn top to bottom fits a screen.
    graph.graph_attr.update(concentrate="true", ranksep="0.8", nodesep="0.15")
    groups, folded, boxes = fold(order, root)
    hidden = style.folded_exponents(order)
    if max_nodes is not None and len(boxes) > max_nodes:
        raise GraphTooLargeError(
            f"draw_dot: even collapsed, the graph has {len(boxes)} nodes, more than "
            f"max_nodes={max_nodes}. Draw it anyway with max_nodes=None (or a larger max_nodes)."
        )

    outputs = _group_outputs(order, groups, root)
    magnitude = {g.name: _group_magnitude(g) for g in folded.values()}
    largest = style.largest_magnitude(
        [
            *magnitude.values(),
            *(
                order[b].grad
                for b in boxes
                if isinstance(b, int) and not style.is_constant(order[b])
            ),
        ]
    )
    ranks = sorted(
        (
            b.last if isinstance(b, _Group) else b
            for b in boxes
            if isinstance(b, _Group) or not style.is_constant(order[b])
        ),
        reverse=True,
    )
    step_of = {rank: k + 1 for k, rank in enumerate(ranks)} if number_backward else {}

    nodes: list[tuple[Node, str | None]] = []
    kinds = set()
    for b in boxes:
        if isinstance(b, _Group):
            kinds.add("group")
            label, attrs = _group_node(
                b,
                outputs.get(b.name, []),
                show_grad=show_grad,
                fill=style.grad_fill(magnitude[b.name], largest) if show_grad else "#ffffff",
                step=step_of.get(b.last),
                precision=precision,
            )
            nodes.append(((b.node, label, attrs), b.name))
            continue
        v = order[b]
        node_kind = style.kind(v, root)
        kinds.add(node_kind)
        label, attrs = style.value_node(
            v,
            node_kind,
            show_grad=show_grad,
            largest=largest,
            step=step_of.get(b),
            precision=precision,
            name=names.get(v) if names else None,
        )
        nodes.append(((f"v{b}", label, attrs), None))
        if v.parents:
            label, attrs = style.op_node(v, precision)
            nodes.append(((f"op{b}", label, attrs), None))
    add_clustered(graph, nodes, clusters=group)
    _keep_neuron_order(graph, list(folded.values()))

    index = {v: i for i, v in enumerate(order)}

    def box_of(v: Value) -> str:
        name = groups.get(v)
        return folded[name].node if name is not None else f"v{index[v]}"

    # Merge edges with the same ends (and operand label, for the a/b edges into ordered ops).
    edges: dict[tuple[str, str, str | None], int] = {}
    for i, v in enumerate(order):
        if not v.parents:
            continue
        grouped = v in groups
        head = box_of(v) if grouped else f"op{i}"
        for position, p in enumerate(v.parents):
            if p in hidden:
                continue
            tail = box_of(p)
            if tail != head:
                key = (tail, head, None if grouped else style.operand_label(v, position))
                edges[key] = edges.get(key, 0) + 1
        if not grouped:
            edges[f"op{i}", f"v{i}", None] = 1
    if max_edges is not None and len(edges) > max_edges:
        raise GraphTooLargeError(
            f"draw_dot: even collapsed, the graph has {len(edges)} edges, more than "
            f"max_edges={max_edges} (Graphviz would take minutes to lay them out). "
            "Draw it anyway with max_edges=None (or a larger max_edges)."
        )
    for (tail, head, operand), k in edges.items():
        if operand or k == 1:
            graph.edge(tail, head, operand)
        else:
            graph.edge(tail, head, xlabel=f"×{k}", penwidth=f"{1 + math.log2(k) / 2:g}")
    if legend:
        graph.attr(
            label=style.legend(
                show_grad=show_grad,
                largest=largest,
                number_backward=number_backward,
                kinds=kinds,
                ordered=any(operand for _, _, operand in edges),
                precision=precision,
            ),
            labelloc="b",
        )


def _neuron_key(name: str) -> tuple[str, int, str]:
    """``'L0.N12'`` -> ``('L0', 12, '')``: sorts neurons by number, not as text."""
    layer, _, neuron = name.rpartition(".")
    digits = neuron.lstrip("N")
    return (layer, int(digits), "") if digits.isdecimal() else (layer, -1, neuron)


def _keep_neuron_order(graph: Drawing, groups: list[_Group]) -> None:
    """Draw each layer's neurons in one rank, in order (L0.N0 above or left of L0.N1 ...).

    Graphviz orders a rank to cross few edges, which shuffles the neurons of a
    fully connected layer; an invisible chain of edges inside the rank fixes
    their order.
    """
    layers: dict[str, list[_Group]] = {}
    for g in groups:
        layer, _, _ = g.name.rpartition(".")
        if layer:
            layers.setdefault(layer, []).append(g)
    for members in layers.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda g: _neuron_key(g.name))
        with graph.subgraph() as rank:
            rank.attr(rank="same")
            for a, b in zip(members, members[1:]):
                rank.edge(a.node, b.node, style="invis")


def _group_outputs(
    order: Sequence[Value], groups: dict[Value, str], root: Value
) -> dict[str, list[Value]]:
    """Each group's members used outside the group (or the root itself)."""
    outputs: dict[str, dict[Value, None]] = {}
    for v in order:
        for p in v.parents:
            g = groups.get(p)
            if g is not None and groups.get(v) != g:
                outputs.setdefault(g, {})[p] = None
    if root in groups:
        outputs.setdefault(groups[root], {})[root] = None
    return {g: list(vs) for g, vs in outputs.items()}


def _group_magnitude(g: _Group) -> float:
    params = [v for v in g.members if style.is_parameter(v)]
    grads = [abs(v.grad) for v in (params or g.members)]
    return max(grads) if all(math.isfinite(x) for x in grads) else math.inf


def _group_node(
    g: _Group,
    outputs: list[Value],
    *,
    show_grad: bool,
    fill: str,
    step: int | None,
    precision: int = style.DEFAULT_PRECISION,
) -> tuple[str, dict[str, str]]:
    params = sum(1 for v in g.members if style.is_parameter(v))
    ops = sum(1 for v in g.members if v.parents)
    head = f"#{step} {g.name}" if step else g.name
    lines = [head, f"{params} params", f"{ops} ops"]  # narrow: a wide layer stays readable
    if len(outputs) == 1:
        lines.append(f"out {style.number(outputs[0].data, precision)}")
        if show_grad:
            lines.append(f"grad {style.number(outputs[0].grad, precision)}")
    elif outputs:
        lines.append(f"{len(outputs)} outputs")
    return style.text(lines), style.node_attrs("group", fill)
