"""Which neuron (or other labelled group) each Value belongs to, and clusters for them.

A Value's *group* is the prefix of its label before the last dot: ``nn``
labels parameters ``L0.N3.w1`` and ``L0.N3.b``, so they belong to the neuron
``L0.N3``. Unlabelled values join a group by these rules, applied in
topological order (each Value after its parents):

1. a result with parameter parents (leaves labelled like ``L0.N3.w1``, see
   :func:`viz.style.is_parameter`) joins their group if they all agree, and
   no group if they disagree;
2. otherwise an addition, a multiplication or an activation (tanh, relu,
   sigmoid) joins the group of its grouped result parents if they all agree,
   ignoring parents made by an activation. That is the neuron's
   ``act(b + w0·x0 + w1·x1 + ...)``; an activation ends its neuron, and other
   ops (``-``, ``**``, ``exp``, ...) join no neuron by inheritance, so a loss
   computed from a neuron's output stays outside, even for a linear neuron;
3. a constant joins the group of its consumers if they all agree;
4. the output (the root) joins none unless its own label says so.

In a drawing, groups become clusters: a group with several dotted parts
(``L0.N3``) is drawn inside a cluster for its first part (the layer ``L0``).
"""

from __future__ import annotations

from collections.abc import Sequence

import graphviz

from autograd_lite import Value

from .style import escape, is_parameter

ACTIVATIONS = frozenset({"tanh", "relu", "sigmoid"})
# Ops that inherit their parents' group: the weighted sum and the activation of a neuron.
INHERITING = frozenset({"add", "mul"}) | ACTIVATIONS

# A node to emit: its name, label and attributes.
Node = tuple[str, str, dict[str, str]]


def label_group(label: str) -> str | None:
    """``'L0.N3.w1'`` -> ``'L0.N3'``; a label without a dot has no group."""
    head, dot, _ = label.rpartition(".")
    return head if dot and head else None


def _agreed(groups: set[str]) -> str | None:
    return next(iter(groups)) if len(groups) == 1 else None


def assign_groups(order: Sequence[Value], root: Value) -> dict[Value, str]:
    """Map each Value of ``order`` (topological) that belongs to a group to its group."""
    groups: dict[Value, str] = {}
    for v in order:
        g = label_group(v.label)
        if g is None and v.parents and v is not root:
            params = {groups[p] for p in v.parents if p in groups and is_parameter(p)}
            if params:
                g = _agreed(params)
            elif v.op in INHERITING:
                inner = {
                    groups[p]
                    for p in v.parents
                    if p.parents and p in groups and p.op not in ACTIVATIONS
                }
                g = _agreed(inner)
        if g is not None:
            groups[v] = g
    consumers: dict[Value, set[str | None]] = {}
    for v in order:
        for p in v.parents:
            if not p.parents and not p.label:
                consumers.setdefault(p, set()).add(groups.get(v))
    for constant, gs in consumers.items():
        if constant is not root and len(gs) == 1 and None not in gs:
            groups[constant] = next(iter(gs))
    return groups


def add_clustered(
    graph: graphviz.Digraph, nodes: Sequence[tuple[Node, str | None]], *, clusters: bool
) -> None:
    """Add ``(node, group)`` pairs to ``graph``; with ``clusters`` grouped ones go in clusters.

    Ungrouped nodes come first, then one cluster per layer (first dotted part)
    holding one cluster per group, all in order of first appearance.
    """
    outer: dict[str, dict[str, list[Node]]] = {}
    for node, group in nodes:
        if not clusters or group is None:
            _add_all(graph, [node])
        else:
            layer = group.split(".", 1)[0]
            outer.setdefault(layer, {}).setdefault(group, []).append(node)
    counter = 0
    for layer, inner in outer.items():
        with graph.subgraph(name=f"cluster_{counter}") as layer_graph:
            counter += 1
            _cluster_style(layer_graph, layer, "#f7f7f7")
            for group, members in inner.items():
                if group == layer:
                    _add_all(layer_graph, members)
                    continue
                with layer_graph.subgraph(name=f"cluster_{counter}") as group_graph:
                    counter += 1
                    _cluster_style(group_graph, group, "#ffffff")
                    _add_all(group_graph, members)


def _add_all(graph: graphviz.Digraph, nodes: Sequence[Node]) -> None:
    for name, label, attrs in nodes:
        graph.node(name, label, **attrs)


def _cluster_style(graph: graphviz.Digraph, label: str, fill: str) -> None:
    graph.attr(
        label=escape(label),
        style="rounded,filled",
        color="#bbbbbb",
        fillcolor=fill,
        fontcolor="#555555",
    )
