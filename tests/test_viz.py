"""viz.draw_dot: DOT text, determinism, kinds, backward numbering, clusters, collapsed mode.

These tests read ``.source`` (DOT text) only, so they need no Graphviz ``dot``;
rendering is tested in test_viz_render.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import graphviz
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from viz_graphs import mlp_graph, nonzero_numbers

import viz
from autograd_lite import Value, topological_order
from viz.groups import assign_groups, label_group
from viz.style import grad_fill, is_parameter, kind, number

ROOT = Path(__file__).resolve().parents[1]


def neuron() -> tuple[Value, dict[str, Value]]:
    """y = tanh(x·w + b) * 2.0 − x, after backward (2.0 is an unlabelled constant)."""
    x, w, b = Value(0.5, label="x"), Value(-3.0, label="w"), Value(2.0, label="b")
    y = (x * w + b).tanh() * 2.0 - x
    y.backward()
    return y, {"x": x, "w": w, "b": b}


def node_lines(source: str) -> dict[str, str]:
    """DOT node statements by node name (``v3``, ``op3``, ``g0``)."""
    found = {}
    for line in source.splitlines():
        m = re.match(r"\s*((?:v|op|g)\d+) \[(.*)\]$", line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def value_label(source: str, name: str) -> str:
    m = re.search(r'label=(?:"([^"]*)"|([^" \]]+))', node_lines(source)[name])
    return m.group(1) if m.group(1) is not None else m.group(2)


def clusters_of(source: str) -> dict[str, list[str]]:
    """Node name -> labels of the clusters around it, outermost first."""
    stack: list[str | None] = []
    where: dict[str, list[str]] = {}
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("subgraph cluster_"):
            stack.append(None)
        elif stripped == "}" and stack:
            stack.pop()
        elif stack and stack[-1] is None and (m := re.search(r'label="?([^" ]+)"?', stripped)):
            if not re.match(r"(?:v|op|g)\d+ ", stripped):
                stack[-1] = m.group(1)
                continue
        m = re.match(r"((?:v|op|g)\d+) \[", stripped)
        if m:
            where[m.group(1)] = [s for s in stack if s is not None]
    return where


# ---- the basic drawing ---------------------------------------------------------------------


def test_draw_dot_returns_a_digraph_with_one_box_per_value_and_one_node_per_op():
    y, _ = neuron()
    graph = viz.draw_dot(y)
    assert isinstance(graph, graphviz.Digraph)
    order = topological_order(y)
    nodes = node_lines(graph.source)
    boxes = [n for n in nodes if n.startswith("v")]
    ops = [n for n in nodes if n.startswith("op")]
    assert len(boxes) == len(order)
    assert len(ops) == sum(1 for v in order if v.parents)
    for i, v in enumerate(order):
        label = value_label(graph.source, f"v{i}")
        if v.is_constant:  # its value only: a constant has no gradient
            assert label == number(v.data)
            continue
        assert f"data {number(v.data)}" in label
        assert f"grad {number(v.grad)}" in label
        if v.label:
            assert label.startswith(v.label)


def test_op_nodes_show_the_symbols_of_the_op_table():
    x = Value(0.7, label="x")
    y = (x.exp() + x.log() * x.sigmoid() - x.relu() / x.max(0.1)) ** 2
    source = viz.draw_dot(y).source
    labels = {
        re.search(r"label=(\S+)", attrs).group(1).strip('"')
        for attrs in node_lines(source).values()
    }
    assert {"exp", "log", "σ", "relu", "max", "+", "*", "-", "/", "**2"} <= labels
    z = x ** Value(2.0, label="k")  # a Value exponent is an operand like any other
    assert 'label="**"' in viz.draw_dot(z).source


def test_operands_of_ordered_ops_are_labelled_a_and_b():
    y, names = neuron()
    source = viz.draw_dot(y).source
    # y = t - x: the edge from t (v7) is a, from x (v0) is b
    assert re.search(r"v\d+ -> op8 \[label=a\]", source)
    assert "v0 -> op8 [label=b]" in source


def test_show_grad_false_hides_grad_and_colour():
    y, _ = neuron()
    source = viz.draw_dot(y, show_grad=False).source
    assert "grad " not in source
    assert "data 0.5" in source
    assert set(re.findall(r'fillcolor="(#[0-9a-f]{6})"', source)) <= {"#ffffff", "#eeeeee"}


def test_rankdir_is_passed_and_checked():
    y, _ = neuron()
    assert "rankdir=TB" in viz.draw_dot(y, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_dot(y, rankdir="sideways")


def test_root_must_be_a_value():
    with pytest.raises(TypeError, match="Value"):
        viz.draw_dot(3.0)


def test_labels_are_shown_literally():
    x = Value(1.0, label='<b>"quoted" back\\slash')
    y = x * 2.0
    source = viz.draw_dot(y).source
    assert r'label="<b>\"quoted\" back\\slash\ndata 1.0' in source


# ---- kinds and colours ----------------------------------------------------------------------


def test_kinds_follow_the_documented_rule():
    p = Value(1.0, label="L0.N3.w1")
    bias = Value(1.0, label="L0.N3.b")
    x = Value(2.0, label="x")
    y = p * x + bias * 3.0
    assert is_parameter(p) and is_parameter(bias)
    assert not is_parameter(x) and not is_parameter(Value(1.0, label="L0.N3.wx"))
    assert kind(y, y) == "output"
    assert kind(p, y) == "parameter"
    assert kind(x, y) == "input"
    assert kind(y.parents[1].parents[1], y) == "constant"
    assert kind(y.parents[0], y) == "result"


def test_kinds_are_styled_differently():
    p, x = Value(1.0, label="L0.N0.w0"), Value(2.0, label="x")
    y = p * x + 3.0
    y.backward()
    lines = node_lines(viz.draw_dot(y).source)
    borders = {re.search(r'color="(#[0-9a-f]+)"', lines[f"v{i}"]).group(1) for i in range(5)}
    assert len(borders) == 5  # parameter, input, result, constant, output
    assert "peripheries=2" in lines["v4"]


def test_fill_deepens_with_the_gradient_magnitude():
    assert grad_fill(0.0, 2.0) == "#ffffff"
    assert grad_fill(2.0, 2.0) == grad_fill(5.0, 2.0) == "#f08028"  # capped at the top
    assert grad_fill(0.0, 0.0) == "#ffffff"
    half = int(grad_fill(1.0, 2.0)[3:5], 16)
    assert 128 < half < 255  # green channel between the two ends
    assert grad_fill(float("nan"), 1.0) == grad_fill(float("inf"), 1.0) != "#ffffff"
    y, names = neuron()  # |x.grad| is the largest in this graph
    source = viz.draw_dot(y).source
    assert 'fillcolor="#f08028"' in node_lines(source)["v0"]


def test_legend_explains_the_colours_and_can_be_turned_off():
    y, _ = neuron()
    source = viz.draw_dot(y).source
    assert "|grad| / max |grad|" in source and "parameter" not in source.split("label=<")[-1]
    assert "label=<" not in viz.draw_dot(y, legend=False).source


def test_huge_and_nonfinite_numbers_are_readable():
    x = Value(1e300, label="x")
    y = x * 2.0
    y.grad = float("inf")
    source = viz.draw_dot(y).source
    assert "data 2e+300" in source
    assert "grad inf" in source


# ---- determinism ----------------------------------------------------------------------------


DOT_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_viz import all_sources, mlp_graph
sys.stdout.write(all_sources(mlp_graph((2, 3, 2, 1), samples=2)))
"""


def all_sources(root: Value) -> str:
    options = ({}, {"group": True}, {"collapse": True, "group": True}, {"number_backward": True})
    return "".join(viz.draw_dot(root, **o).source for o in options)


def test_dot_is_byte_identical_across_runs_and_separately_built_graphs():
    first = all_sources(mlp_graph((2, 3, 2, 1), samples=2))
    again = all_sources(mlp_graph((2, 3, 2, 1), samples=2))
    assert first == again
    y1, _ = neuron()
    y2, _ = neuron()
    assert viz.draw_dot(y1).source == viz.draw_dot(y1).source == viz.draw_dot(y2).source
    assert "0x" not in first  # no id()s


def test_dot_is_identical_in_subprocesses_with_other_hash_seeds():
    expected = all_sources(mlp_graph((2, 3, 2, 1), samples=2))
    script = DOT_SCRIPT.format(tests=str(ROOT / "tests"))
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, env=env, cwd=ROOT, check=True
        )
        assert out.stdout.decode("utf-8") == expected


# ---- size limit -----------------------------------------------------------------------------


def chain(n: int) -> Value:
    """A graph of exactly n Values."""
    v = Value(0.1, label="x")
    for _ in range(n - 1):
        v = v.tanh()
    return v


def test_max_nodes_refuses_big_graphs_and_says_what_to_do():
    assert chain(500).op == "tanh"
    viz.draw_dot(chain(500))  # exactly the default limit: fine
    with pytest.raises(ValueError) as info:
        viz.draw_dot(chain(501))
    message = str(info.value)
    assert "501 Values" in message and "max_nodes=500" in message
    assert "max_nodes=None" in message and "collapse=True" in message
    assert len(node_lines(viz.draw_dot(chain(501), max_nodes=None).source)) == 501 + 500
    viz.draw_dot(chain(501), max_nodes=600)
    with pytest.raises(ValueError, match="max_nodes=10"):
        viz.draw_dot(chain(11), max_nodes=10)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_nodes"):
            viz.draw_dot(chain(3), max_nodes=bad)


def test_deep_graphs_do_not_hit_the_recursion_limit():
    source = viz.draw_dot(chain(3000), max_nodes=None).source
    assert "v2999 [" in source


# ---- backward numbering ---------------------------------------------------------------------


def test_number_backward_numbers_boxes_in_reverse_topological_order():
    y, _ = neuron()
    order = topological_order(y)
    source = viz.draw_dot(y, number_backward=True).source
    steps = {}
    for i, v in enumerate(order):
        m = re.match(r"#(\d+)", value_label(source, f"v{i}"))
        if v.is_constant:  # no gradient, no step
            assert m is None
            continue
        steps[v] = int(m.group(1))
    assert steps[y] == 1
    graded = [v for v in reversed(order) if not v.is_constant]
    assert [steps[v] for v in graded] == list(range(1, len(graded) + 1))
    assert value_label(source, "v0").startswith(f"#{len(graded)} x")
    assert "#k" in source  # explained in the legend
    assert "#1" not in viz.draw_dot(y).source


# ---- groups ---------------------------------------------------------------------------------


def test_label_group_is_the_prefix_before_the_last_dot():
    assert label_group("L0.N3.w1") == "L0.N3"
    assert label_group("L0.N3.b") == "L0.N3"
    assert label_group("x") is None
    assert label_group("") is None
    assert label_group(".w") is None


def test_assign_groups_puts_each_neuron_together_and_the_loss_outside():
    root = mlp_graph((2, 3, 2, 1), samples=1)
    order = topological_order(root)
    groups = assign_groups(order, root)
    for v in order:
        if is_parameter(v):
            assert groups[v] == label_group(v.label)
        if v.op == "tanh":
            assert groups[v].startswith("L")  # an activation belongs to its neuron
        if v.op == "mul" and any(is_parameter(p) for p in v.parents):
            param = next(p for p in v.parents if is_parameter(p))
            assert groups[v] == label_group(param.label)
    assert root not in groups
    loss_sub = next(v for v in order if v.op == "sub")
    assert loss_sub not in groups  # consumes the output neuron's activation, no parameter
    inputs = [v for v in order if v.label in ("x0", "x1")]
    assert inputs and not any(v in groups for v in inputs)
    assert {g for g in groups.values()} == {
        "L0.N0", "L0.N1", "L0.N2", "L1.N0", "L1.N1", "L2.N0"
    }  # fmt: skip


def test_a_loss_on_a_linear_neuron_stays_outside_it():
    w, b, x = Value(2.0, label="L0.N0.w0"), Value(1.0, label="L0.N0.b"), Value(3.0, label="x")
    z = b + w * x  # a linear neuron: no activation closes it
    square = (z - 1.0) ** 2
    loss = square + square.exp()
    groups = assign_groups(topological_order(loss), loss)
    assert groups[z] == groups[z.parents[1]] == "L0.N0"
    assert [v for v in groups if v.parents] == [z.parents[1], z]
    assert z.parents[1].op == "mul"


def test_constants_join_the_group_of_their_consumers_when_it_is_unique():
    w, b = Value(2.0, label="L0.N0.w0"), Value(1.0, label="L0.N0.b")
    inside = w * 3.0 + b  # 3.0 is used only inside L0.N0
    shared = Value(5.0)
    root = inside * shared + shared
    groups = assign_groups(topological_order(root), root)
    three = inside.parents[0].parents[1]
    assert groups[three] == "L0.N0"
    assert shared not in groups


def test_group_draws_one_cluster_per_neuron_inside_one_per_layer():
    root = mlp_graph((2, 3, 2, 1), samples=1)
    order = topological_order(root)
    source = viz.draw_dot(root, group=True).source
    where = clusters_of(source)
    for i, v in enumerate(order):
        if is_parameter(v):
            neuron_name = label_group(v.label)
            assert where[f"v{i}"] == [neuron_name.split(".")[0], neuron_name]
    assert where[f"v{len(order) - 1}"] == []  # the output stays outside
    assert source.count("subgraph cluster_") == 3 + 6  # layers + neurons
    assert "subgraph" not in viz.draw_dot(root).source


def test_group_without_nn_labels_draws_no_cluster():
    y, _ = neuron()
    assert viz.draw_dot(y, group=True).source == viz.draw_dot(y).source


# ---- collapsed mode -------------------------------------------------------------------------


def test_collapse_draws_one_node_per_neuron():
    root = mlp_graph((2, 3, 2, 1), samples=1)
    source = viz.draw_dot(root, collapse=True).source
    nodes = node_lines(source)
    groups = [n for n in nodes if n.startswith("g")]
    assert len(groups) == 6
    for name in ("L0.N0", "L1.N1", "L2.N0"):
        assert f'label="{name}\\n' in source
    assert "3 params\\n5 ops" in source  # a layer-0 neuron: w0, w1, b; 2 mul, 2 add, tanh
    # merged edges: each layer-1 neuron reads each layer-0 neuron once
    name_of = {value_label(source, n).split("\\n")[0]: n for n in groups}
    for i in range(3):
        for j in range(2):
            edge = f"{name_of[f'L0.N{i}']} -> {name_of[f'L1.N{j}']}"
            assert len(re.findall(rf"^\t{edge}$", source, re.M)) == 1


def test_collapse_merges_parallel_edges_with_a_count():
    root = mlp_graph((2, 3, 1), samples=3)
    source = viz.draw_dot(root, collapse=True).source
    assert 'xlabel="×3"' in source


def test_collapsed_mlp_2_16_16_1_stays_small():
    root = mlp_graph((2, 16, 16, 1), samples=1)
    assert len(topological_order(root)) > 500
    nodes = node_lines(viz.draw_dot(root, collapse=True).source)
    assert len(nodes) < 60
    grouped = node_lines(viz.draw_dot(root, collapse=True, group=True).source)
    assert len(grouped) == len(nodes)


def test_collapse_with_number_backward_and_max_nodes():
    root = mlp_graph((2, 3, 1), samples=1)
    source = viz.draw_dot(root, collapse=True, number_backward=True).source
    numbers = sorted(int(n) for n in re.findall(r'label="#(\d+)', source))
    assert numbers == list(range(1, len(numbers) + 1))
    with pytest.raises(ValueError, match="even collapsed"):
        viz.draw_dot(root, collapse=True, max_nodes=3)


def test_nn_mlp_collapses_to_one_node_per_neuron():
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "MLP"):
        pytest.skip("nn.MLP is not written yet")
    model = nn.MLP(2, [16, 16, 1], seed=0)
    out = model([0.5, -1.0])
    loss = (out - 1.0) ** 2
    loss.backward()
    order = topological_order(loss)
    assert len(order) > 500
    with pytest.raises(ValueError, match="collapse=True"):
        viz.draw_dot(loss)
    source = viz.draw_dot(loss, collapse=True, group=True).source
    nodes = node_lines(source)
    assert len([n for n in nodes if n.startswith("g")]) == 16 + 16 + 1
    assert len(nodes) < 60
    groups = assign_groups(order, loss)
    for p in model.parameters():
        assert groups[p] == label_group(p.label)
    assert out in groups and loss.parents[0] not in groups  # out − 1.0 is the loss's


# ---- honest numbers and constants ------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(nonzero_numbers(), st.integers(1, 6))
def test_no_label_of_a_nonzero_number_reads_as_zero(data, precision):
    x = Value(data, label="x")
    y = x * x.tanh()
    y.grad = data  # a nonzero grad of the same magnitude, drawn as is
    x.grad = -data
    source = viz.draw_dot(y, precision=precision).source
    numbers = re.findall(r"(?:data|grad) (\S+?)(?:\\n|\")", source)
    assert len(numbers) == 6
    for text in numbers:
        if text not in ("0.0", "-0.0"):
            assert float(text) != 0.0
    assert f"data {number(data, precision)}" in source
    assert f"grad {number(-data, precision)}" in source


def test_constants_are_drawn_small_with_their_value_only():
    x = Value(2.0, label="x")
    y = x**2 + 3 * x
    y.backward()
    order = topological_order(y)
    source = viz.draw_dot(y).source
    lines = node_lines(source)
    constants = [i for i, v in enumerate(order) if v.is_constant]
    assert len(constants) == 2
    two, three = constants  # the exponent 2 is drawn inside its op, not as a box
    assert f"v{two}" not in lines and 'label="**2"' in source
    assert value_label(source, f"v{three}") == "3.0" and "fontsize=9" in lines[f"v{three}"]
    assert source.count("grad ") == sum(1 for v in order if not v.is_constant)
    # A Value the user made keeps data and grad, with or without a label.
    z = Value(3.0) * x
    assert "grad " in value_label(viz.draw_dot(z).source, "v0")
