"""``draw_dot``: a Value's computation graph as a Graphviz Digraph.

One box per Value (label, data, grad) and one small node per operation,
between the operands and the result. Nodes are named by their position in
``topological_order(root)`` (``v0``, ``v1``, ... and ``op3`` for the op that
made ``v3``), never by ``id()``, so the same graph always gives the same DOT
text, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping

from autograd_lite import Value, topological_order

from . import style
from .collapse import draw_collapsed
from .drawing import Drawing, GraphTooLargeError, layout_size, new_drawing
from .groups import Node, add_clustered, assign_groups

DEFAULT_MAX_NODES = 500
# Graphviz's layout time grows faster than the edge count: a collapsed MLP 2-48-48-3
# (2,576 edges) takes about a second, 2-128-128-10 (18,029 edges) nearly two minutes.
DEFAULT_MAX_EDGES = 2000
# Virtual nodes dot must place (viz.drawing.layout_size). An MSE of a line on 40 points
# makes 3,120 (3 to 10 s), on 50 points 4,900 (14 to 26 s), on 60 points 7,080 (31 to 50 s);
# x*1 + ... + x*60 makes 3,422 (1 to 2 s), x*1 + ... + x*120 about 14,000 (over 4 minutes).
DEFAULT_MAX_LAYOUT = 4000


def draw_dot(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    max_edges: int | None = DEFAULT_MAX_EDGES,
    max_layout: int | None = DEFAULT_MAX_LAYOUT,
    number_backward: bool = False,
    group: bool = False,
    collapse: bool = False,
    legend: bool = True,
    precision: int = style.DEFAULT_PRECISION,
    names: Mapping[Value, str] | None = None,
) -> Drawing:
    """Draw the graph that computed ``root``; the result renders inline in Jupyter.

    - ``rankdir``: 'LR' (left to right), 'TB', 'RL' or 'BT'.
    - ``show_grad``: show each ``grad`` and colour boxes by it. The fill
      deepens from white to orange with ``|grad| / max |grad|`` over the
      picture (purple: inf or NaN). Borders tell kinds apart: output (double,
      red), parameter (a leaf labelled like ``L0.N3.w1`` or ``L0.N3.b``;
      green), input (other labelled leaf; blue), constant (unlabelled leaf;
      grey, dashed), op result (thin). See :mod:`viz.style`.
    - ``max_nodes``: refuse (ValueError) graphs of more Values than this;
      ``None`` for no limit.
    - ``max_edges``: with ``collapse=True``, refuse (ValueError) pictures of
      more edges than this; ``None`` for no limit. (Merging edges decouples
      their number from the nodes'; without ``collapse`` each Value brings at
      most three edges, so ``max_nodes`` bounds them.)
    - ``max_layout``: refuse (GraphTooLargeError) a picture whose layout would
      make Graphviz place more virtual nodes than this, one on every rank a
      long edge passes (:func:`viz.drawing.layout_size`): a few hundred Values
      that share one weight along a long chain take Graphviz minutes. ``None``
      for no limit (``dot`` still stops after ``viz.drawing.LAYOUT_TIMEOUT``
      seconds). Collapsed pictures are bounded by ``max_edges`` instead.
    - ``number_backward``: prefix boxes with ``#k``, the order in which
      ``backward`` visits them (reverse topological order: the output is #1;
      constants, which get no gradient, are not counted).
    - ``group``: draw each neuron (label prefix such as ``L0.N3``) in a
      cluster inside a cluster for its layer; unlabelled values join a
      neuron as :mod:`viz.groups` explains.
    - ``collapse``: one node per neuron instead of its Values, edges between
      neurons merged (labelled ``×k`` for k underlying edges); see
      :mod:`viz.collapse`. ``max_nodes`` then limits the nodes drawn.
    - ``legend``: explain colours and borders in a line under the picture.
    - ``precision``: significant digits of the numbers (a nonzero never
      reads as zero: ``8.245e-09``).
    - ``names``: the name each box shows instead of its Value's label (the
      player names unlabelled results by what they compute); groups still
      come from the labels.

    A constant (a leaf the engine made from a number, ``v.is_constant``) is
    drawn small, with its value only: it has no gradient. A constant exponent
    is drawn inside its op: ``**2``.

    Edges into ``-``, ``/`` and ``**`` are labelled ``a`` and ``b``: the op
    computes ``a - b``, ``a / b``, ``a ** b``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot: root must be a Value, got {type(root).__name__}")
    for name, limit in (
        ("max_nodes", max_nodes),
        ("max_edges", max_edges),
        ("max_layout", max_layout),
    ):
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            raise ValueError(f"draw_dot: {name} must be a positive int or None, got {limit!r}")
    if not isinstance(precision, int) or isinstance(precision, bool) or precision < 1:
        raise ValueError(f"draw_dot: precision must be a positive int, got {precision!r}")
    order = topological_order(root)
    graph = new_drawing(rankdir)
    if collapse:
        draw_collapsed(
            graph,
            root,
            order,
            show_grad=show_grad,
            max_nodes=max_nodes,
            max_edges=max_edges,
            number_backward=number_backward,
            group=group,
            legend=legend,
            precision=precision,
            names=names,
        )
        return graph
    if max_nodes is not None and len(order) > max_nodes:
        raise GraphTooLargeError(
            f"draw_dot: the graph has {len(order)} Values, more than max_nodes={max_nodes}. "
            "Draw it anyway with draw_dot(root, max_nodes=None) (or a larger max_nodes), "
            "or one node per neuron with draw_dot(root, collapse=True)."
        )
    index = {v: i for i, v in enumerate(order)}
    groups = assign_groups(order, root) if group else {}
    largest = style.largest_magnitude(v.grad for v in order if not style.is_constant(v))
    hidden = style.folded_exponents(order)
    # Backward's order (reverse topological), counting the Values that get a gradient.
    graded = [v for v in reversed(order) if not style.is_constant(v)] if number_backward else []
    steps = {v: k for k, v in enumerate(graded, start=1)}
    nodes: list[tuple[Node, str | None]] = []
    kinds = set()
    for i, v in enumerate(order):
        if v in hidden:
            continue
        node_kind = style.kind(v, root)
        kinds.add(node_kind)
        step = steps.get(v)
        label, attrs = style.value_node(
            v,
            node_kind,
            show_grad=show_grad,
            largest=largest,
            step=step,
            precision=precision,
            name=names.get(v) if names else None,
        )
        nodes.append(((f"v{i}", label, attrs), groups.get(v)))
        if v.parents:
            label, attrs = style.op_node(v, precision)
            nodes.append(((f"op{i}", label, attrs), groups.get(v)))
    edges: list[tuple[str, str, str | None]] = []
    for i, v in enumerate(order):
        for position, p in enumerate(v.parents):
            if p not in hidden:
                edges.append((f"v{index[p]}", f"op{i}", style.operand_label(v, position)))
        if v.parents:
            edges.append((f"op{i}", f"v{i}", None))
    ranks, virtual = layout_size((a, b) for a, b, _ in edges)
    if max_layout is not None and virtual > max_layout:
        raise GraphTooLargeError(
            f"draw_dot: this graph is too big for Graphviz to lay out quickly: {len(edges):,} "
            f"edges over {ranks:,} ranks need {virtual:,} virtual nodes (one on each rank a "
            f"long edge passes), more than max_layout={max_layout:,}. Draw a smaller graph "
            "(fewer points in the loss), one node per neuron with collapse=True, or anyway "
            "with max_layout=None."
        )
    add_clustered(graph, nodes, clusters=group)
    ordered = False
    for a, b, operand in edges:
        ordered = ordered or operand is not None
        graph.edge(a, b, operand)
    if legend:
        graph.attr(
            label=style.legend(
                show_grad=show_grad,
                largest=largest,
                number_backward=number_backward,
                kinds=kinds,
                ordered=ordered,
                precision=precision,
            ),
            labelloc="b",
        )
    return graph
