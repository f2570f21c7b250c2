"""viz.network in a real browser: headless Chromium opens the saved view from file://.

The 2-4-4-3 MLP of tests/network_runs.py (spirals, 20 epochs, record=True):
neuron and line counts; at every snapshot every ``data-value`` is the recorded
parameter and, after the forward pass, every ``data-out`` the engine's forward;
the backward steps reveal ``data-delta`` layer by layer, output layer first,
each the engine's ∂L/∂z, and ``data-grad`` that sample's ``p.grad``; the film's
loss is the History's; keys and the slider reach the same states; clicking a
neuron shows its player; a host mounts the view with hooks. No console error,
no request. The digits' 64-32-10 opens and steps; hostile labels and NaN
weights render escaped / as NaN with a note.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from browser import OUTSIDE_TEXT, WIDEST_VALUES, chromium, page_requests
from network_runs import engine_pass, small_run

import nn
import viz

STATE = """
var root = document.querySelector('[data-autograd-lite="network"]');
function all(sel, keys) {
  var out = {};
  root.querySelectorAll(sel).forEach(function (e) {
    var row = {};
    keys.forEach(function (k) { row[k] = e.getAttribute(k); });
    out[e.getAttribute(keys[0])] = row;
  });
  return out;
}
return {epoch: root.dataset.epoch, loss: root.dataset.loss, phase: root.dataset.phase,
        step: Number(root.dataset.step), snapshot: Number(root.dataset.snapshot),
        neurons: all('[data-neuron]', ['data-neuron', 'data-out', 'data-delta']),
        lines: all('[data-param]', ['data-param', 'data-value', 'data-grad']),
        layers: all('[data-layer]', ['data-layer', 'data-health']),
        panel: root.querySelector('.agl-step-panel').textContent};
"""


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def run():
    return small_run()


@pytest.fixture(scope="module")
def page(run, tmp_path_factory):
    model, X, y, X_test, y_test, history = run
    view = viz.network(model, X, y, history=history, X_test=X_test, y_test=y_test)
    return view, view.save(tmp_path_factory.mktemp("network") / "network.html")


@pytest.fixture(scope="module")
def opened(browser, page):
    view, path = page
    browser.get_log("performance")
    browser.get_log("browser")
    browser.get(path.as_uri())
    return browser, view, path


def state(driver) -> dict:
    return driver.execute_script(STATE)


def key(driver, name: str, times: int = 1) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root = driver.find_element(By.CSS_SELECTOR, '[data-autograd-lite="network"]')
    for _ in range(times):
        root.send_keys(getattr(Keys, name))


def slide(driver, snapshot: int) -> None:
    driver.execute_script(
        "var s = document.querySelector('.agl-epoch-slider'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input'));",
        snapshot,
    )


def test_counts_of_neurons_lines_and_layers(opened):
    s = state(opened[0])
    assert len(s["neurons"]) == 2 + 4 + 4 + 3
    assert len(s["lines"]) == 2 * 4 + 4 * 4 + 4 * 3
    assert sorted(s["layers"]) == ["L0", "L1", "L2", "in"]
    assert s["phase"] == "idle" and s["step"] == 0 and s["epoch"] == "20"
    assert all(n["data-out"] == "" and n["data-delta"] == "" for n in s["neurons"].values())


def test_every_snapshot_shows_the_recorded_parameters_and_the_engines_passes(opened, run):
    driver, view, _ = opened
    model, X, y, *_, history = run
    i = view.data["sample"]["index"]
    columns = len(view.data["columns"])
    order = ["L2", "L1", "L0"]  # backward: the output layer first
    key(driver, "HOME")
    for s, (epoch, params) in enumerate(history.snapshots):
        slide(driver, s)
        got = state(driver)
        assert got["snapshot"] == s and got["epoch"] == str(epoch)
        assert got["loss"] == ("" if epoch == 0 else repr(history.loss[epoch - 1]))
        assert {k: v["data-value"] for k, v in got["lines"].items()} == {
            label: repr(params[j])
            for j, label in enumerate(view.data["params"])
            if not label.endswith(".b")
        }
        want = engine_pass(model, params, X[i], y[i])
        driver.execute_script("document.querySelector('[data-autograd-lite=network]').focus()")
        key(driver, "ARROW_RIGHT", columns)  # the whole forward pass
        got = state(driver)
        assert got["phase"] == "forward"
        assert {k: v["data-out"] for k, v in got["neurons"].items()} == {
            k: repr(v) for k, v in want["out"].items()
        }
        assert all(v["data-delta"] == "" for v in got["neurons"].values())
        assert all(v["data-grad"] == "" for v in got["lines"].values())
        for b in range(1, len(order) + 1):
            key(driver, "ARROW_RIGHT")
            got = state(driver)
            assert got["phase"] == "backward" and got["step"] == columns + b
            reached = order[:b]
            for label, n in got["neurons"].items():
                if label.split(".")[0] in reached:
                    assert n["data-delta"] == repr(want["delta"][label])
                else:
                    assert n["data-delta"] == ""
            for label, line in got["lines"].items():
                if label.split(".")[0] in reached:
                    assert line["data-grad"] == repr(want["grad"][label])
                else:
                    assert line["data-grad"] == ""
        key(driver, "HOME")


def test_the_film_follows_the_keys_and_the_health_of_each_layer(opened, run):
    driver, view, _ = opened
    *_, history = run
    key(driver, "END")  # the last step; the snapshot stays
    s = state(driver)
    assert s["step"] == 7 and s["snapshot"] == 20
    key(driver, "PAGE_UP", 3)
    s = state(driver)
    assert s["snapshot"] == 17 and s["epoch"] == "17" and s["loss"] == repr(history.loss[16])
    assert s["step"] == 7  # the lesson's step is kept while scrubbing
    health = json.loads(s["layers"]["L1"]["data-health"])
    assert health == {
        k: view.data["snapshots"][17]["health"]["L1"][k]
        for k in ("grad", "dead", "saturated", "update_ratio")
    }
    assert s["layers"]["in"]["data-health"] is None
    key(driver, "PAGE_DOWN", 5)
    assert state(driver)["snapshot"] == 20
    key(driver, "HOME")
    assert state(driver)["phase"] == "idle"


def test_every_label_stays_inside_the_drawing_at_every_step(opened):
    """At 1200 px, every number and word of the drawing is whole (not cut at its edge) and
    at least 8 px tall, at every step of the first and the last snapshot, and with the
    widest value a neuron can write in every place."""
    driver, *_ = opened
    driver.set_window_size(1200, 900)
    try:
        for snapshot in ("HOME", "END"):
            slide(driver, 0 if snapshot == "HOME" else 20)
            key(driver, "HOME")
            for step in range(8):
                assert state(driver)["step"] == step
                assert driver.execute_script(OUTSIDE_TEXT) == [], (snapshot, step)
                key(driver, "ARROW_RIGHT")
        driver.execute_script(WIDEST_VALUES)
        assert driver.execute_script(OUTSIDE_TEXT) == []
    finally:
        key(driver, "HOME")
        driver.set_window_size(1280, 900)


def test_the_panel_writes_the_layer_recursion_with_the_samples_numbers(opened):
    driver, view, _ = opened
    key(driver, "END")
    key(driver, "ARROW_LEFT")  # the backward step of L1, a hidden layer
    text = state(driver)["panel"]
    last = view.data["snapshots"][-1]["sample"]
    assert "δ(L1) = (W(L2)ᵀ δ(L2)) ⊙ relu'(z(L1))" in text
    assert viz.style.number(last["delta"][1][0], 4) in text
    assert "§4.2" in text
    key(driver, "HOME")


def test_clicking_a_neuron_shows_its_own_graph_in_the_player(opened):
    from selenium.webdriver.common.by import By

    driver, view, _ = opened
    active = next(iter(view.data["players"]))
    driver.find_element(By.CSS_SELECTOR, f'[data-neuron="{active}"] .agl-box').click()
    player = driver.find_element(By.CSS_SELECTOR, ".agl-neuron-panel .agl-player[data-ready]")
    assert player.find_elements(By.CSS_SELECTOR, "g.node")
    assert active in driver.find_element(By.CSS_SELECTOR, ".agl-neuron-panel").text


def test_no_console_error_and_no_network_request(opened):
    driver, _, path = opened
    key(driver, "END")
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    assert page_requests(driver, path) == [path.as_uri()]


def test_a_host_mounts_the_view_with_hooks_and_updates_it(opened):
    driver, view, _ = opened
    result = driver.execute_script(
        """
        var data = JSON.parse(document.querySelector('script.agl-network-data').textContent);
        var div = document.createElement('div'); document.body.appendChild(div);
        var calls = [];
        var v = AutogradLiteNetwork.mount(div, data, {
          onNeuron: function (label) { calls.push(['neuron', label]); },
          onSample: function (i) { calls.push(['sample', i]); }});
        div.querySelector('[data-neuron="L1.N0"] .agl-box')
           .dispatchEvent(new MouseEvent('click', {bubbles: true}));
        var canvas = div.querySelector('canvas.agl-regions'), r = canvas.getBoundingClientRect();
        canvas.dispatchEvent(new MouseEvent('click', {clientX: r.left + 5, clientY: r.top + 5}));
        var before = v.state();
        var next = JSON.parse(JSON.stringify(data));
        next.snapshots.push(JSON.parse(JSON.stringify(data.snapshots[0])));
        next.snapshots[next.snapshots.length - 1].epoch = 21;
        v.update(next);
        var out = {calls: calls, before: before, after: v.state(),
                   epoch: div.getAttribute('data-epoch'),
                   neurons: div.querySelectorAll('[data-neuron]').length,
                   contract: div.getAttribute('data-autograd-lite')};
        div.parentNode.removeChild(div);
        return out;
        """
    )
    assert result["calls"][0] == ["neuron", "L1.N0"]
    assert result["calls"][1][0] == "sample" and isinstance(result["calls"][1][1], int)
    assert result["before"]["snapshot"] == 20 and result["after"]["snapshot"] == 21
    assert result["epoch"] == "21" and result["neurons"] == 13
    assert result["contract"] == "network"


def test_the_digits_network_opens_as_an_image_and_steps(browser, tmp_path):
    pytest.importorskip("sklearn")
    X, y = nn.data.load_digits()
    X, y = X[:150], y[:150]
    model = nn.MLP(64, [32, 10], seed=0)
    history = nn.train.fit(model, X, y, epochs=2, progress=False, record=True, compile=True)
    path = viz.network(model, X, y, history=history, players="none").save(tmp_path / "d.html")
    browser.get_log("browser")
    browser.get(path.as_uri())
    key(browser, "END")
    s = state(browser)
    assert len(s["neurons"]) == 64 + 32 + 10 and len(s["lines"]) == 64 * 32 + 32 * 10
    assert s["phase"] == "backward" and all(
        n["data-delta"] for k, n in s["neurons"].items() if k.startswith("L")
    )
    width = browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    assert width  # no scrolling sideways
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_players_go_to_the_largest_deltas_while_the_page_keeps_to_its_limit(run, monkeypatch):
    """With room for a few players, they are the neurons of largest |δ|; the page is within
    PAGE_LIMIT bytes and counts the neurons left out (the digits' real page: test_digits)."""
    import sys

    module = sys.modules["viz.network"]  # viz.network is also the function
    model, X, y, *_, history = run
    bare = len(viz.network(model, X, y, history=history, players="none").html().encode())
    monkeypatch.setattr(module, "PAGE_LIMIT", bare + 60_000)
    view = viz.network(model, X, y, history=history)
    deltas = {
        label: abs(d)
        for column, row in zip(
            view.data["columns"][1:], view.data["snapshots"][-1]["sample"]["delta"]
        )
        for label, d in zip(column["neurons"], row)
        if d != 0
    }
    kept = set(view.data["players"])
    assert 0 < len(kept) < len(deltas)
    assert view.data["players_left_out"] == len(deltas) - len(kept)
    assert min(deltas[k] for k in kept) >= max(d for k, d in deltas.items() if k not in kept)
    assert len(view.html().encode()) <= bare + 60_000


def test_hostile_labels_and_nan_weights_render_escaped_and_as_nan(browser, run, tmp_path):
    model, X, y, *_, history = run
    hostile = nn.MLP(2, [2, 3], seed=0)
    evil = "</script><img src=x onerror=\"document.title='pwned'\">"
    hostile.layers[0].name = evil
    hostile.layers[0].neurons[0].name = evil + ".N0"
    hostile.layers[0].neurons[0].w[0].label = evil
    snapshots = [(0, [p.data for p in hostile.parameters()])]
    snapshots.append((1, [math.nan] + snapshots[0][1][1:]))
    from viz.network_data import NetworkData

    data = NetworkData(hostile, X, y).build(snapshots, title=evil)
    path = viz.NetworkView(data).save(tmp_path / "h.html")
    browser.get_log("browser")
    browser.get(path.as_uri())
    assert browser.title != "pwned" and not browser.find_elements("css selector", "img")
    s = state(browser)
    assert s["lines"][evil]["data-value"] == "nan"
    assert evil + ".N0" in s["neurons"]
    notes = browser.find_element("css selector", ".agl-notes").text
    assert "not finite" in notes and evil in notes
    key(browser, "END")
    s = state(browser)
    assert s["neurons"][evil + ".N0"]["data-delta"] == "nan"
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_python_repr_in_javascript_matches_python(opened):
    driver = opened[0]
    values = [
        0.0,
        -0.0,
        1.0,
        0.1 + 0.2,
        1e-5,
        1.5e-4,
        1e16,
        1e15,
        123456789.0,
        -2.5e-300,
        float("nan"),
        float("inf"),
        3.0e22,
        1 / 3,
    ]
    got = driver.execute_script(
        "return arguments[0].map(function (v) { return AutogradLiteNetwork.pyRepr(v); });",
        [
            v if math.isfinite(v) else str(v).replace("nan", "NaN").replace("inf", "Infinity")
            for v in values
        ],
    )
    assert got == [repr(v) for v in values]
    formatted = driver.execute_script(
        "return arguments[0].map(function (v) { return AutogradLiteNetwork.fmt(v, 4); });",
        [v for v in values if math.isfinite(v)],
    )
    assert formatted == [viz.style.number(v, 4) for v in values if math.isfinite(v)]
    assert np.isfinite(1.0)
