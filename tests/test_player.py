"""viz.player in a real browser: headless Chromium opens a saved player from file://.

For each graph (a neuron, a fork ``b = a*a + a``, a softmax cross-entropy, a
collapsed MLP) the tests check what a person sees: no console error and no
network request; no gradient before the backward pass; every gradient at the
end equals the engine's ``.grad`` in the same format; the highlighted nodes
follow ``backward``'s order; the slider and the keyboard reach the same
states; clicking a node shows its ledger (``autograd_lite.explain``).
"""

from __future__ import annotations

import html
import json
import shutil

import pytest
from browser import chromium, page_requests
from viz_graphs import mlp_graph

import nn
import viz
from autograd_lite import Value, explain, topological_order
from autograd_lite.explanation import names, wrapped
from viz.collapse import fold
from viz.style import number

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is missing")


def neuron() -> Value:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.881373587019543, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.label = "o"
    o.backward()
    return o


def fork() -> Value:
    a = Value(3.0, label="a")
    b = a * a + a
    b.label = "b"
    b.backward()
    return b


def softmax_ce() -> Value:
    z = [Value(v, label=f"z{i}") for i, v in enumerate((1.5, -0.3, 0.8))]
    loss = nn.softmax_cross_entropy(z, 2)
    loss.label = "L"
    loss.backward()
    return loss


GRAPHS = {"neuron": (neuron, {}), "fork": (fork, {}), "softmax_ce": (softmax_ce, {})}
GRAPHS["collapsed_mlp"] = (lambda: mlp_graph((2, 3, 3, 1)), {"collapse": True})
GRAPHS["grouped_mlp"] = (lambda: mlp_graph((2, 2, 1)), {"group": True, "rankdir": "TB"})

STATE = """
var root = document.querySelector('.agl-player');
var grads = {};
root.querySelectorAll('g.node').forEach(function (g) {
  g.querySelectorAll('text').forEach(function (t) {
    if (t.textContent.indexOf('grad ') === 0)
      grads[g.dataset.node] = t.textContent;
  });
});
return {step: Number(root.dataset.step), current: root.dataset.current, grads: grads,
        panel: root.querySelector('.agl-panel').textContent,
        ledger: root.querySelector('.agl-ledger').textContent};
"""


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture(params=list(GRAPHS), scope="module")
def opened(request, browser, tmp_path_factory):
    build, options = GRAPHS[request.param]
    root = build()
    path = viz.player(root, **options).save(tmp_path_factory.mktemp("player") / "p.html")
    browser.get_log("performance")  # forget the earlier pages' events
    browser.get_log("browser")
    browser.get(path.as_uri())
    data = json.loads(
        browser.execute_script("return document.querySelector('script.agl-data').textContent")
    )
    return browser, root, options, data, path


def state(driver) -> dict:
    return driver.execute_script(STATE)


def key(driver, name: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.find_element(By.CSS_SELECTOR, ".agl-player").send_keys(getattr(Keys, name))


def slide(driver, step: int) -> None:
    driver.execute_script(
        "var s = document.querySelector('.agl-slider'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input'));",
        step,
    )


def test_no_console_error_and_no_network_request(opened):
    driver, _, _, _, path = opened
    key(driver, "END")
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    urls = page_requests(driver, path)
    assert urls == [path.as_uri()], urls


def test_no_gradient_is_shown_before_the_backward_pass(opened):
    driver, _, _, data, _ = opened
    for step in (0, len(data["forward"])):
        slide(driver, step)
        shown = state(driver)["grads"]
        assert shown and set(shown.values()) == {"grad —"}, shown


def expected_grads(root: Value, options: dict) -> dict[str, str]:
    """Box name -> the engine's .grad formatted as the picture formats it."""
    order = topological_order(root)
    if not options.get("collapse"):
        return {f"v{i}": f"grad {number(v.grad)}" for i, v in enumerate(order) if not v.is_constant}
    from viz.collapse import _group_outputs

    groups, folded, boxes = fold(order, root)
    outputs = _group_outputs(order, groups, root)
    found = {}
    for b in boxes:
        if isinstance(b, int):
            if not order[b].is_constant:
                found[f"v{b}"] = f"grad {number(order[b].grad)}"
        elif len(outputs.get(b.name, [])) == 1:
            found[b.node] = f"grad {number(outputs[b.name][0].grad)}"
    return found


def test_at_the_end_every_gradient_is_the_engines(opened):
    driver, root, options, _, _ = opened
    key(driver, "END")
    assert state(driver)["grads"] == expected_grads(root, options)


def backward_boxes(root: Value, options: dict) -> list[str]:
    order = topological_order(root)
    if not options.get("collapse"):
        return [f"v{i}" for i, v in reversed(list(enumerate(order))) if not v.is_constant]
    _, _, boxes = fold(order, root)
    keyed = [
        (b.last, b.node) if not isinstance(b, int) else (b, f"v{b}")
        for b in boxes
        if not isinstance(b, int) or not order[b].is_constant
    ]
    return [name for _, name in sorted(keyed, reverse=True)]


def test_highlighted_nodes_follow_backwards_order_and_slider_matches_keys(opened):
    driver, root, options, data, _ = opened
    forward = len(data["forward"])
    slide(driver, forward)
    seen, states = [], {}
    for _ in data["backward"]:
        key(driver, "ARROW_RIGHT")
        now = state(driver)
        seen.append(now["current"])
        states[now["step"]] = now
    assert seen == backward_boxes(root, options)
    key(driver, "ARROW_RIGHT")  # past the end: stays
    assert state(driver)["step"] == forward + len(data["backward"])
    for step, expected in states.items():
        slide(driver, step)
        assert state(driver) == expected
    key(driver, "HOME")
    assert state(driver)["step"] == 0
    key(driver, "ARROW_RIGHT")
    key(driver, "ARROW_LEFT")
    assert state(driver)["step"] == 0


def test_space_plays_and_pauses(opened):
    driver, _, _, _, _ = opened
    key(driver, "HOME")
    key(driver, "SPACE")
    driver.implicitly_wait(0)
    import time

    time.sleep(1.6)
    key(driver, "SPACE")
    step = state(driver)["step"]
    assert step >= 1
    time.sleep(1.0)
    assert state(driver)["step"] == step


def test_clicking_a_node_shows_its_ledger(opened):
    from selenium.webdriver.common.by import By

    driver, root, options, _, _ = opened
    order = topological_order(root)
    leaf = next(  # an input: its own box even in a collapsed picture
        i for i, v in enumerate(order) if not v.parents and v.label.startswith(("x", "a", "z"))
    )
    key(driver, "HOME")
    target = driver.find_element(By.CSS_SELECTOR, f'g.node[data-node="v{leaf}"]')
    key(driver, "END")
    target.click()
    assert state(driver)["ledger"] == explain(root, order[leaf], precision=4)


def test_clicking_an_op_node_shows_the_value_it_computes(opened):
    """The `*`, `+`, `tanh` ellipse stands for the Value it makes: its ledger, not 'a constant'."""
    from selenium.webdriver.common.by import By

    driver, root, options, data, _ = opened
    order = topological_order(root)
    key(driver, "END")
    ops = driver.find_elements(By.CSS_SELECTOR, 'g.node[data-node^="op"]')
    assert ops or options.get("collapse")
    for op in ops[:3]:
        index = int(op.get_attribute("data-node")[2:])
        op.click()
        ledger = state(driver)["ledger"]
        if not options.get("collapse"):
            assert ledger == explain(root, order[index], precision=4)
        # (Collapsed, a neuron's output is called by its neuron's name, L1.N0, not explain's.)
        first, last = ledger.splitlines()[0], ledger.splitlines()[-1]
        assert data["names"][f"v{index}"] in first and "constant" not in ledger
        assert f" = {number(order[index].grad)}" in last  # the total, or the output's 1.0


def test_each_backward_step_shows_its_text_then_how_the_gradient_was_built(opened):
    """The panel at backward step k: "backward step k of n", the step's text, then (but for
    the output's) the node's ledger, explain's text in full, which player.js completes."""
    driver, root, options, data, _ = opened
    order = topological_order(root)
    name = names(order)
    forward, n = len(data["forward"]), len(data["backward"])
    for k, step in enumerate(data["backward"], start=1):
        slide(driver, forward + k)
        panel = state(driver)["panel"]
        assert panel.startswith(f"backward step {k} of {n}\n{step['text']}")
        if step["node"].startswith("g") or options.get("collapse"):
            continue  # a neuron's text is its own; a collapsed graph names its neurons' outputs
        v = order[int(step["node"][1:])]
        built = f"how ∂{wrapped(root, name)}/∂{wrapped(v, name)} was built:\n"
        expected = f"\n\n{built}{explain(root, v, precision=4)}" if v is not root else ""
        assert panel.endswith(step["text"] + expected)


INTERNAL = r"\b(?:v|op|g)\d+\b"  # the drawing's node ids


def test_no_internal_node_id_reaches_the_reader(opened):
    """Every text a reader can see or hover, at every step and after every click, names
    nodes as the panel does (x1, x1·w1, neuron L0.N1), never by an id (v3, op3, g0)."""
    import re

    from selenium.webdriver.common.by import By

    driver, _, _, data, _ = opened
    seen = []
    for step in range(len(data["forward"]) + len(data["backward"]) + 1):
        slide(driver, step)
        now = state(driver)
        seen += [now["panel"], now["ledger"]]
    for node in driver.find_elements(By.CSS_SELECTOR, "g.node"):
        driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click'))", node)
        seen.append(state(driver)["ledger"])
    seen.append(driver.execute_script("return document.querySelector('.agl-player').innerText"))
    seen += driver.execute_script(
        "return Array.from(document.querySelectorAll('title')).map(t => t.textContent)"
    )
    leaks = [text for text in seen if re.search(INTERNAL, text)]
    assert leaks == []


def _rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


HIGHLIGHTS = """
var root = document.querySelector('.agl-player');
function stroke(sel) {
  var g = root.querySelector(sel);
  return g && getComputedStyle(g.querySelector('polygon, path, ellipse')).stroke;
}
return {current: stroke('g.node.agl-current'), receiving: stroke('g.node.agl-receiving'),
        keys: Array.from(root.querySelectorAll('.agl-legend .agl-key')).map(
          k => [k.className, getComputedStyle(k).borderTopColor, k.nextSibling.textContent]),
        borders: Array.from(root.querySelectorAll('g.node:not(.agl-current):not(.agl-receiving)'
          )).map(g => getComputedStyle(g.querySelector('polygon, path, ellipse')).stroke)};
"""


def test_the_legend_explains_the_highlights_in_colours_no_border_uses(opened):
    from viz import style

    driver, _, _, data, _ = opened
    slide(driver, len(data["forward"]) + 1)  # the first backward step: current and receiving
    seen = driver.execute_script(HIGHLIGHTS)
    keys = {cls.split()[-1]: (colour, text) for cls, colour, text in seen["keys"]}
    assert keys["agl-key-current"][0] == seen["current"]
    assert "the current node" in keys["agl-key-current"][1]
    assert keys["agl-key-receiving"][0] == seen["receiving"]
    assert "receiving" in keys["agl-key-receiving"][1]
    used = {_rgb(c) for c in (*style.BORDER.values(), "#999999", "#000000")} | set(seen["borders"])
    assert seen["current"] != seen["receiving"]
    assert not {seen["current"], seen["receiving"]} & used


def test_gradient_edges_point_back_at_the_parent(opened):
    """At a backward step, each highlighted edge has its arrow at its start, the parent's end
    (the forward arrowhead hidden), so the gradient is seen flowing back."""
    driver, _, _, data, _ = opened
    forward = len(data["forward"])
    checked = 0
    for k, step in enumerate(data["backward"][:4], start=1):
        slide(driver, forward + k)
        edges = driver.execute_script(
            """
            return Array.from(document.querySelectorAll('g.edge.agl-flow')).map(function (g) {
              var path = g.querySelector('path'), start = path.getPointAtLength(0);
              var m = path.getScreenCTM(), tail = document.querySelector(
                'g.node[data-node="' + g.dataset.from + '"]').getBBox();
              var head = g.querySelector('polygon');
              return {from: g.dataset.from, to: g.dataset.to,
                      marker: getComputedStyle(path).markerStart,
                      forward: head ? getComputedStyle(head).visibility : 'none',
                      start: [start.x, start.y],
                      tail: [tail.x, tail.y, tail.x + tail.width, tail.y + tail.height]};
            });"""
        )
        for e in edges:
            assert e["marker"].startswith("url(") and e["marker"].endswith('-back")')
            assert e["forward"] in ("hidden", "none")
            x, y = e["start"]
            x0, y0, x1, y1 = e["tail"]
            assert x0 - 3 <= x <= x1 + 3 and y0 - 3 <= y <= y1 + 3, e  # the tip at the parent
            assert e["from"] in step["to"] or e["to"] == step["node"], e
        checked += len(edges)
    assert checked > 0


def test_the_step_counter_does_not_move_the_slider(opened):
    driver, _, _, data, _ = opened
    forward, total = len(data["forward"]), len(data["forward"]) + len(data["backward"])
    rects = set()
    for step in sorted({0, 1, 9, forward, forward + 1, total}):
        slide(driver, min(step, total))
        rects.add(
            tuple(
                driver.execute_script(
                    "var r = document.querySelector('.agl-slider').getBoundingClientRect();"
                    "return [r.left, r.top, r.width];"
                )
            )
        )
    assert len(rects) == 1, rects


# ---- the page itself (no browser needed) -----------------------------------------------------


def test_the_page_is_one_self_contained_file(tmp_path):
    root = neuron()
    p = viz.player(root)
    page = p.html()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    from importlib import resources

    for name in ("player.js", "player.css"):
        text = resources.files("viz").joinpath(name).read_text(encoding="utf-8")
        assert text in page  # inlined, not linked
    assert "href=" not in page and " src=" not in page and "@import" not in page
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org", "")
    fragment = p._repr_html_()
    assert fragment.startswith('<div class="agl-player"') and "<html" not in fragment
    saved = p.save(tmp_path / "n.html")
    assert saved.read_text(encoding="utf-8") == page == viz.player(root).html()  # reproducible
    assert [f.name for f in tmp_path.iterdir()] == ["n.html"]


def test_the_picture_says_once_what_graphviz_repeats():
    """Graphviz's SVG, compacted (viz.player._compact): no line breaks between elements, a
    plain edge's stroke on its group, no closing point twice, coordinates to 0.1 pt."""
    import re

    svg = viz.player(neuron()).svg
    assert ">\n<" not in svg and "&#45;" not in svg
    assert 'stroke="black" d=' not in svg and '<polygon fill="black"' not in svg
    edges = re.findall(r'<g class="edge"[^>]*>', svg)
    assert edges and all(e.endswith(' stroke="black">') for e in edges)  # all plain here
    for points in re.findall(r' points="([^"]*)"', svg):
        assert points.split()[0] != points.split()[-1], points
    assert not re.search(r' (?:d|points)="[^"]*\.\d\d', svg)


def test_the_static_picture_is_the_finished_backward_pass_without_touching_the_values():
    x, w = Value(0.5, label="x"), Value(-3.0, label="w")
    y = (x * w).tanh()  # backward not called: the player computes the gradients itself
    p = viz.player(y)
    assert f"grad {number(w.data * (1 - y.data**2))}" in html.unescape(p.svg)
    assert (x.grad, w.grad, y.grad, y.label) == (0.0, 0.0, 0.0, "")


def test_the_panel_names_the_pattern_and_writes_the_chain_rule_with_numbers():
    root = neuron()
    texts = "\n".join(step["text"] for step in viz.player(root).data["backward"])
    for pattern in ("add distributes", "mul swaps", "tanh scales by its derivative"):
        assert pattern in texts
    assert "∂(x1·w1)/∂x1 = w1 = -3.0; × 0.5 = -1.5; x1.grad (not yet) → -1.5" in texts
    assert "(x1·w1).grad (not yet) → 0.5" in texts  # a name with an operator: in parentheses


def test_a_collapsed_mlp_steps_neuron_by_neuron():
    root = mlp_graph((2, 3, 3, 1))
    data = viz.player(root, collapse=True).data
    neurons = [s["node"] for s in data["backward"] if s["node"].startswith("g")]
    assert len(neurons) == len(set(neurons)) == 7
    assert all("neuron L" in s["text"] for s in data["backward"] if s["node"].startswith("g"))


def test_options_are_checked():
    root = mlp_graph((2, 16, 16, 1))
    with pytest.raises(ValueError, match="max_nodes"):
        viz.player(root)
    with pytest.raises(ValueError, match="precision"):
        viz.player(neuron(), precision=0)
    with pytest.raises(TypeError, match="Value"):
        viz.player(1.0)
