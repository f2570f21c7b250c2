"""viz under hostile input: labels Graphviz cannot read, graphs too big to render."""

from __future__ import annotations

import shutil

import pytest

import viz
from autograd_lite import Value

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


def _labelled(*labels: str) -> Value:
    x, y = Value(2.0, label=labels[0]), Value(3.0, label=labels[1])
    z = x * y
    z.backward()
    return z


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("a\x00b", "a\\x00b"),  # NUL ends a C string: Graphviz would stop reading there
        ("s\udcff", "s\\udcff"),  # a lone surrogate (an undecodable byte): not encodable
        ("bell\x07", "bell\\x07"),
        ("L0.N\x00.w0", "L0.N\\x00.w0"),
    ],
)
def test_unprintable_label_characters_are_drawn_escaped(label, shown):
    root = _labelled(label, "y")
    source = viz.draw_dot(root, group=True).source
    source.encode("utf-8")  # no lone surrogate left
    assert "\x00" not in source
    assert shown.replace("\\", "\\\\") in source  # DOT text doubles the backslash


@needs_dot
@pytest.mark.parametrize("label", ["a\x00b", "s\udcff", "\ud800\udfff"])
def test_graphviz_renders_labels_with_nul_or_surrogates(label):
    svg = viz.to_svg(_labelled(label, "y"), group=True)
    assert "data 2.0" in svg and "data 6.0" in svg
    assert viz.style.visible(label) in svg


def test_visible_keeps_ordinary_text():
    assert viz.style.visible("σ(x) — tanh\tw\n") == "σ(x) — tanh\tw\n"
    assert viz.style.visible("\x00\x1f\x7f\udc80") == "\\x00\\x1f\\x7f\\udc80"


def _mlp_loss(sizes: list[int]) -> Value:
    import nn

    model = nn.MLP(2, sizes, seed=0)
    loss = nn.softmax_cross_entropy(model([0.5, -0.2]), 1)
    loss.backward()
    return loss


def test_collapse_limits_edges_too():
    loss = _mlp_loss([128, 128, 10])  # 290 nodes collapsed, within max_nodes=500
    with pytest.raises(ValueError) as err:
        viz.draw_dot(loss, collapse=True)
    message = str(err.value)
    assert "18029 edges" in message and f"max_edges={viz.DEFAULT_MAX_EDGES}" in message
    assert "max_edges=None" in message
    source = viz.draw_dot(loss, collapse=True, max_edges=None).source  # built, not rendered
    edges = [line for line in source.splitlines() if "->" in line and "invis" not in line]
    assert len(edges) == 18029  # drawn edges; invisible ones only keep neurons in order


def test_a_collapsed_mlp_of_the_default_size_passes():
    source = viz.draw_dot(_mlp_loss([32, 32, 3]), collapse=True).source
    edges = [line for line in source.splitlines() if "->" in line and "invis" not in line]
    assert len(edges) <= viz.DEFAULT_MAX_EDGES


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_max_edges_must_be_a_positive_int_or_none(bad):
    with pytest.raises(ValueError, match="max_edges must be a positive int or None"):
        viz.draw_dot(_labelled("x", "y"), max_edges=bad)
