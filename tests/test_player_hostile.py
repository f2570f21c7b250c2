"""Labels are user data: no label may change what a player page does.

A graph whose Values carry hostile labels (a closing ``</script>``, ``<!--<script>``,
an ``<img onerror>``, quotes, backticks and ``${}``, U+2028/2029, a lone surrogate,
markup and entities) is rendered three ways: ``viz.player(...).html()``,
``viz.save(v, "x.html")`` and the bare fragment Jupyter shows (no Content Security
Policy around it). In headless Chromium each page runs none of the injected code
(which would set ``window.__agl_pwned`` or the title), logs no console error,
shows every label as the literal text it is, and its controls work. A label too
long for Graphviz is a clear ValueError, not a broken page.
"""

from __future__ import annotations

import shutil

import pytest
from browser import chromium

import viz
from autograd_lite import Value, topological_order
from viz.style import number, visible

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is missing")

HOSTILE = [
    "</script><script>window.__agl_pwned = 'script'; document.title = 'pwned'</script>",
    "<!--<script>",
    "<img src=x onerror=\"window.__agl_pwned = 'img'\">",
    "\" onmouseover=\"window.__agl_pwned = 'quote'\" x='",
    "`${window.__agl_pwned = 'template'}`",
    "a\u2028b\u2029c",
    "lone \ud800 surrogate",
    "]]><svg onload=\"window.__agl_pwned = 'svg'\">",
    "&lt;b&gt; &amp; &#60;script&#62;",
    "<style>.agl-controls { display: none }</style>",
]
ROOT_LABEL = "</title><script>window.__agl_pwned = 'title'</script>"


def hostile_graph() -> Value:
    xs = [Value(0.1 * (i + 1), label=label) for i, label in enumerate(HOSTILE)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x * x
    out = total.tanh()
    out.label = ROOT_LABEL
    return out


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The three pages of the hostile graph: name -> path."""
    folder = tmp_path_factory.mktemp("hostile")
    out = hostile_graph()
    player = viz.player(out)
    page = player.html()  # no UnicodeEncodeError for the lone surrogate
    (folder / "html.html").write_bytes(page.encode("utf-8"))
    viz.save(out, folder / "save.html")
    fragment = "<!DOCTYPE html>\n<html><body>" + player._repr_html_() + "</body></html>\n"
    (folder / "fragment.html").write_bytes(fragment.encode("utf-8"))
    return {name: folder / f"{name}.html" for name in ("html", "save", "fragment")}


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


PAGE_STATE = """
var root = document.querySelector('.agl-player');
return {pwned: window.__agl_pwned === undefined ? null : String(window.__agl_pwned),
        title: document.title, ready: root && root.hasAttribute('data-ready'),
        scripts: document.querySelectorAll('script').length,
        imgs: document.querySelectorAll('img').length,
        styles: document.querySelectorAll('style').length,
        controls: getComputedStyle(root.querySelector('.agl-controls')).display,
        texts: Array.from(root.querySelectorAll('svg text')).map(t => t.textContent),
        titles: Array.from(root.querySelectorAll('g.node > title')).map(t => t.textContent),
        step: Number(root.dataset.step), panel: root.querySelector('.agl-panel').textContent};
"""


@pytest.mark.parametrize("name", ["html", "save", "fragment"])
def test_no_label_changes_what_the_page_does(browser, pages, name):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get_log("browser")
    browser.get(pages[name].as_uri())
    seen = browser.execute_script(PAGE_STATE)
    assert seen["pwned"] is None
    assert seen["ready"] and seen["controls"] == "flex"
    assert (seen["scripts"], seen["imgs"], seen["styles"]) == (2, 0, 1 + (name != "fragment"))
    if name != "fragment":
        assert seen["title"] == f"backprop of {ROOT_LABEL} — autograd-lite"
    # Every label is drawn and named as the literal text it is (a surrogate spelled \ud800).
    for label in [*HOSTILE, ROOT_LABEL]:
        shown = visible(label)
        assert any(shown in text for text in seen["texts"]), label
        assert shown in seen["titles"], label
    # The controls work: to the end, every gradient is the engine's.
    out = hostile_graph()
    out.backward()
    player = browser.find_element(By.CSS_SELECTOR, ".agl-player")
    player.send_keys(Keys.END)
    seen = browser.execute_script(PAGE_STATE)
    order = topological_order(out)
    assert seen["step"] > 0 and seen["pwned"] is None
    grads = [t for t in seen["texts"] if t.startswith("grad ")]
    assert grads == [f"grad {number(v.grad)}" for v in order if not v.is_constant]
    # Clicking the <img> label's box shows its ledger, the label as text.
    img = order.index(next(v for v in order if v.label == HOSTILE[2]))
    browser.find_element(By.CSS_SELECTOR, f'g.node[data-node="v{img}"]').click()
    ledger = browser.execute_script("return document.querySelector('.agl-ledger').textContent")
    assert HOSTILE[2] in ledger and "Σ over the uses of" in ledger
    assert browser.execute_script("return window.__agl_pwned === undefined")
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []


def test_a_label_too_long_for_graphviz_is_a_clear_error(tmp_path):
    x = Value(1.0, label="A" * 2**20)  # 1 MB
    y = (x * 2.0).tanh()
    for draw in (lambda: viz.player(y), lambda: viz.save(y, tmp_path / "x.html")):
        too_long = r"^viz: a label is too long for Graphviz \(line \d+ of the DOT text has 1,048,"
        with pytest.raises(ValueError, match=too_long):
            draw()
    assert list(tmp_path.iterdir()) == []


def test_a_lone_surrogate_in_the_outputs_label_is_written_spelled_out(tmp_path):
    """The page's title too: \\udcff, as the picture spells it; the file is UTF-8."""
    x = Value(2.0, label="x")
    y = x * x
    y.label = "y\udcff"
    viz.save(y, tmp_path / "y.html")
    page = (tmp_path / "y.html").read_text(encoding="utf-8")
    assert "<title>backprop of y\\udcff — autograd-lite</title>" in page
    assert viz.player(y).html() == page
