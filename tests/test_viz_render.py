"""viz.to_svg and viz.save: SVG content, file formats, atomic writes, and a missing ``dot``."""

from __future__ import annotations

import os
import re
import shutil
import xml.etree.ElementTree as ET

import graphviz
import pytest
from viz_graphs import mlp_graph

import viz
from autograd_lite import Value, topological_order
from viz.style import number

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")
SVG = "{http://www.w3.org/2000/svg}"
MAGIC = {".svg": b"<?xml", ".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-", ".dot": b"digraph"}


def expression() -> Value:
    x, w, b = Value(0.5, label="x"), Value(-3.0, label="w"), Value(2.0, label="b")
    y = (x * w + b).tanh() * 2.0 - x.max(w) / 4.0
    y.backward()
    return y


def svg_nodes(svg: str) -> dict[str, list[str]]:
    """The text lines of each drawn node, by its DOT name (``v0``, ``op2``, ...)."""
    tree = ET.fromstring(svg)
    nodes = {}
    for g in tree.iter(f"{SVG}g"):
        if g.get("class") == "node":
            name = g.find(f"{SVG}title").text
            nodes[name] = [t.text for t in g.iter(f"{SVG}text")]
    return nodes


@needs_dot
def test_svg_parses_and_holds_every_value_with_data_and_grad():
    y = expression()
    order = topological_order(y)
    nodes = svg_nodes(viz.to_svg(y))
    boxes = {n: texts for n, texts in nodes.items() if n.startswith("v")}
    assert len(boxes) == len(order)
    assert len(nodes) - len(boxes) == sum(1 for v in order if v.parents)
    for i, v in enumerate(order):
        texts = boxes[f"v{i}"]
        if v.is_constant:
            assert number(v.data) in texts and f"grad {number(v.grad)}" not in texts
            continue
        assert f"data {number(v.data)}" in texts
        assert f"grad {number(v.grad)}" in texts
        if v.label:
            assert v.label in texts


@needs_dot
def test_svg_options_pass_through():
    y = expression()
    texts = [t for ts in svg_nodes(viz.to_svg(y, show_grad=False)).values() for t in ts]
    assert not any(t.startswith("grad") for t in texts)
    texts = [t for ts in svg_nodes(viz.to_svg(y, number_backward=True)).values() for t in ts]
    assert "#1" in texts


@needs_dot
def test_collapsed_mlp_renders():
    root = mlp_graph((2, 16, 16, 1))
    nodes = svg_nodes(viz.to_svg(root, collapse=True, group=True))
    assert sum(1 for n in nodes if n.startswith("g")) == 33


@needs_dot
def test_drawing_displays_inline_in_jupyter():
    """SVG, and the same picture as a PNG that an untrusted notebook still shows, same size."""
    import base64

    from viz.drawing import PNG_SCALE, png_size

    data, metadata = viz.draw_dot(expression())._repr_mimebundle_()
    svg = data["image/svg+xml"]
    assert svg.lstrip().startswith("<?xml")
    width_pt, height_pt = (
        float(v) for v in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
    )
    png = base64.b64decode(data["image/png"])
    shown = metadata["image/png"]
    for pixels, css in zip(png_size(png), (shown["width"], shown["height"])):
        assert abs(pixels - css * PNG_SCALE) < PNG_SCALE  # twice the pixels, for HiDPI
    # shown at the SVG's CSS size (1 pt = 4/3 px), within a pixel of rounding
    assert metadata["image/png"]["width"] == pytest.approx(width_pt * 4 / 3, abs=1.5)
    assert metadata["image/png"]["height"] == pytest.approx(height_pt * 4 / 3, abs=1.5)
    only_svg, _ = viz.draw_dot(expression())._repr_mimebundle_(include=["image/svg+xml"])
    assert list(only_svg) == ["image/svg+xml"]


@needs_dot
@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf", ".dot"])
def test_save_writes_the_format_of_the_suffix(tmp_path, suffix):
    path = tmp_path / f"graph{suffix}"
    assert viz.save(expression(), path) == path
    assert path.read_bytes().startswith(MAGIC[suffix])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_save_dot_needs_no_graphviz_and_matches_source(tmp_path):
    y = expression()
    path = tmp_path / "graph.dot"
    viz.save(y, str(path), rankdir="TB")
    assert path.read_text(encoding="utf-8") == viz.draw_dot(y, rankdir="TB").source


@pytest.mark.parametrize("name", ["graph.txt", "graph", "graph.svg.bak", "graph.jpeg"])
def test_save_refuses_an_unknown_suffix(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.dot, \.gv or \.html"):
        viz.save(expression(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_save_html_writes_the_player(tmp_path):
    path = viz.save(expression(), tmp_path / "graph.html", precision=3)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'class="agl-player"' in page
    with pytest.raises(TypeError):
        viz.save(expression(), tmp_path / "other.html", show_grad=False)  # not a player option
    assert [p.name for p in tmp_path.iterdir()] == ["graph.html"]


def test_save_suffix_is_case_insensitive(tmp_path):
    viz.save(expression(), tmp_path / "GRAPH.DOT")
    assert (tmp_path / "GRAPH.DOT").read_bytes().startswith(b"digraph")


def test_atomic_write_replaces_whole_files_and_cleans_up_on_error(tmp_path, monkeypatch):
    path = tmp_path / "out.dot"
    path.write_bytes(b"old")
    viz.atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        viz.atomic_write(path, b"newer")
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.dot"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---- without Graphviz's dot -----------------------------------------------------------------


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    """PATH without Graphviz: an empty directory."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return tmp_path


def test_missing_dot_says_how_to_install_it(no_dot):
    y = expression()
    with pytest.raises(viz.DotNotFoundError) as info:
        viz.to_svg(y)
    message = str(info.value)
    assert "apt-get install graphviz" in message
    assert "brew install graphviz" in message
    assert "conda install -c conda-forge graphviz" in message
    assert ".source" in message
    assert isinstance(info.value, graphviz.ExecutableNotFound)  # old except clauses still work


def test_missing_dot_still_gives_dot_text_and_dot_files(no_dot):
    y = expression()
    graph = viz.draw_dot(y)
    assert graph.source.startswith("digraph")
    viz.save(y, no_dot / "graph.dot")
    assert (no_dot / "graph.dot").exists()
    with pytest.raises(viz.DotNotFoundError):
        viz.save(y, no_dot / "graph.svg")
    assert not (no_dot / "graph.svg").exists()
    with pytest.raises(viz.DotNotFoundError, match="apt-get"):
        graph._repr_mimebundle_()  # what Jupyter calls
    with pytest.raises(viz.DotNotFoundError, match="apt-get"):
        graph.render(directory=no_dot / "rendered")


def test_missing_dot_via_graphviz_exception(monkeypatch):
    """The same error when graphviz itself reports the executable missing (render, or
    pipe with graphviz's own options), or when dot vanishes before pipe runs it."""

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot", "-Tsvg"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    with pytest.raises(viz.DotNotFoundError, match="brew install graphviz"):
        viz.draw_dot(expression()).pipe(format="svg", quiet=True)

    def vanished(*args, **kwargs):
        raise FileNotFoundError("dot")

    monkeypatch.setattr(viz.drawing.subprocess, "run", vanished)
    with pytest.raises(viz.DotNotFoundError, match="brew install graphviz"):
        viz.to_svg(expression())


@needs_dot
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_collapsed_mlp_keeps_neuron_order_and_top_to_bottom_fits_a_laptop(rankdir):
    root = mlp_graph((2, 8, 6, 1))
    svg = viz.to_svg(root, collapse=True, rankdir=rankdir)
    tree = ET.fromstring(svg)
    where: dict[str, tuple[float, float]] = {}
    for g in tree.iter(f"{SVG}g"):
        if g.get("class") == "node":
            texts = [t for t in g.iter(f"{SVG}text")]
            if texts and texts[0].text.startswith("L"):
                where[texts[0].text] = (float(texts[0].get("x")), float(texts[0].get("y")))
    axis = 0 if rankdir == "TB" else 1  # the neurons of a layer run across the ranks
    for layer, size in (("L0", 8), ("L1", 6)):
        across = [where[f"{layer}.N{j}"][axis] for j in range(size)]
        assert across == sorted(across), f"{layer}: neurons out of order"
    if rankdir == "TB":
        width_pt = float(tree.get("width").removesuffix("pt"))
        assert width_pt * 4 / 3 < 1280, "a collapsed 8-neuron layer should fit a laptop's width"
