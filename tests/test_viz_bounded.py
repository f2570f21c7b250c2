"""Drawing time is bounded (issue 19.9): a layout budget refuses, before Graphviz runs,
graphs whose long edges would take it minutes; ``dot`` stops after LAYOUT_TIMEOUT; a
label Graphviz cannot read is a clear ValueError, not a CalledProcessError."""

from __future__ import annotations

import random
import shutil

import graphviz
import pytest

import viz
from autograd_lite import Value
from viz.drawing import layout_size

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


def shared_chain(n: int) -> Value:
    """x*1 + x*2 + ... + x*n: one leaf used all along a chain of n additions."""
    x = Value(0.5, label="x")
    out = x * 1
    for k in range(2, n + 1):
        out = out + x * k
    return out


def mse_of_a_line(points: int) -> Value:
    """The mean squared error of w·x + b against 2x + 1 on ``points`` points (w, b shared)."""
    rng = random.Random(0)
    w, b = Value(0.3, label="w"), Value(0.1, label="b")
    xs = [rng.uniform(-1, 1) for _ in range(points)]
    return sum((((w * x + b) - (2 * x + 1)) ** 2 for x in xs), Value(0.0)) / points


def test_layout_size_counts_a_virtual_node_per_rank_an_edge_passes():
    assert layout_size([]) == (0, 0)
    assert layout_size([("a", "b"), ("b", "c"), ("c", "d")]) == (4, 0)  # a chain
    # a feeds b and d at the end of a chain a..d: its edge to d passes 2 ranks.
    assert layout_size([("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")]) == (4, 2)
    # a leaf is ranked just before its first use (x here, not at the far left).
    assert layout_size([("a", "b"), ("b", "c"), ("x", "c")]) == (3, 0)


@pytest.mark.parametrize(
    ("root", "edges", "ranks", "virtual"),
    [
        (mse_of_a_line(60), 843, 131, 7_080),  # 483 Values: 31 s to draw, 58 s for the player
        (shared_chain(120), 717, 241, 14_042),  # did not finish in 4 minutes
    ],
    ids=["mse-60-points", "x*1+...+x*120"],
)
def test_graphs_that_take_graphviz_minutes_are_refused_at_once(root, edges, ranks, virtual):
    message = (
        f"draw_dot: this graph is too big for Graphviz to lay out quickly: {edges:,} edges "
        f"over {ranks:,} ranks need {virtual:,} virtual nodes (one on each rank a long edge "
        "passes), more than max_layout=4,000. Draw a smaller graph (fewer points in the "
        "loss), one node per neuron with collapse=True, or anyway with max_layout=None."
    )
    for draw in (
        lambda: viz.draw_dot(root),
        lambda: viz.to_svg(root),
        lambda: viz.player(root),
        lambda: viz.save(root, "never-written.svg"),
    ):
        with pytest.raises(viz.GraphTooLargeError) as error:
            draw()
        assert str(error.value) == message
    assert viz.draw_dot(root, max_layout=None).source.count(" -> ") == edges


def test_the_budget_lets_the_usual_pictures_through():
    assert viz.draw_dot(mse_of_a_line(30)).source  # 1,740 virtual nodes, well under a second
    assert viz.draw_dot(shared_chain(60)).source
    with pytest.raises(ValueError, match="max_layout must be a positive int or None"):
        viz.draw_dot(shared_chain(3), max_layout=0)


@needs_dot
def test_dot_stops_after_the_layout_timeout(monkeypatch):
    monkeypatch.setattr(viz.drawing, "LAYOUT_TIMEOUT", 1e-4)
    for draw in (lambda: viz.to_svg(shared_chain(20)), lambda: viz.player(shared_chain(20))):
        with pytest.raises(viz.GraphTooLargeError, match=r"did not lay the graph out within "):
            draw()
    monkeypatch.setattr(viz.drawing, "LAYOUT_TIMEOUT", None)
    assert viz.to_svg(shared_chain(3)).startswith("<?xml")


@needs_dot
@pytest.mark.parametrize("size", [16_385, 2**20])
def test_a_label_over_16_kb_is_a_clear_error(size, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = Value(1.0, label="a" * size)
    y = x * 2
    for draw in (lambda: viz.to_svg(y), lambda: viz.player(y), lambda: viz.save(y, "x.png")):
        with pytest.raises(ValueError, match="a label is too long for Graphviz") as error:
            draw()
        assert not isinstance(error.value, graphviz.CalledProcessError)
        assert "Graphviz reads at most 16,384 in one label" in str(error.value)
    assert viz.draw_dot(y).source  # the DOT text itself is fine
    with pytest.raises(ValueError, match="a label is too long for Graphviz"):
        viz.draw_dot(y).render(directory=str(tmp_path))
    assert not any(tmp_path.iterdir())
    near = Value(1.0, label="a" * 15_000) * 2
    assert "aaaa" in viz.to_svg(near)
