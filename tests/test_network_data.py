"""viz.network's data (viz.network_data) and fit(record=), without a browser.

Every number the view shows is checked against the scalar engine run
independently (tests/network_runs.py): the sample's activations, ∂L/∂z and
p.grad at every snapshot; the heatmaps against the engine's forward at grid
points; the health figures against their definitions; a neuron's own graph
against the whole network's gradients. fit(record=) keeps the snapshots it
promises (also compiled) and refuses a recording of more than 50 million floats.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from network_runs import engine_pass, small_run

import nn
import viz
from autograd_lite import Value, no_grad, topological_order
from viz.network_data import (
    HEALTH_THRESHOLDS,
    NetworkData,
    dequantise,
    flags,
    grid_points,
    neuron_graph,
)


def labelled_leaves(root: Value) -> dict[str, Value]:
    """The labelled leaves of ``root``'s graph, by label."""
    return {v.label: v for v in topological_order(root) if not v.parents and v.label}


@pytest.fixture(scope="module")
def run():
    return small_run()


@pytest.fixture(scope="module")
def view(run):
    model, X, y, X_test, y_test, history = run
    return viz.network(model, X, y, history=history, X_test=X_test, y_test=y_test, players="none")


# ---------------------------------------------------------------------------------------
# fit(record=)


def test_record_true_keeps_epoch_0_and_every_epoch(run):
    model, *_, history = run
    assert [e for e, _ in history.snapshots] == list(range(21))
    assert history.snapshots[-1][1] == [p.data for p in model.parameters()]
    assert all(len(p) == len(model.parameters()) for _, p in history.snapshots)
    assert history.snapshots[0][1] != history.snapshots[1][1]


@pytest.mark.parametrize("compile", [False, True])
def test_record_k_keeps_every_kth_and_the_last_and_the_initial_parameters(compile):
    X, y = nn.data.make_moons(20, seed=1)
    model = nn.MLP(2, [3, 2], seed=1)
    initial = [p.data for p in model.parameters()]
    history = nn.train.fit(model, X, y, epochs=7, progress=False, record=3, compile=compile)
    assert [e for e, _ in history.snapshots] == [0, 3, 6, 7]
    assert history.snapshots[0][1] == initial
    assert history.snapshots[-1][1] == [p.data for p in model.parameters()]
    # a snapshot is a copy: training on does not change it
    nn.train.fit(model, X, y, epochs=1, progress=False)
    assert history.snapshots[-1][1] != [p.data for p in model.parameters()]


def test_compiled_and_scalar_recordings_agree():
    X, y = nn.data.make_moons(16, seed=2)
    runs = []
    for compile in (False, True):
        model = nn.MLP(2, [3, 2], seed=2)
        runs.append(
            nn.train.fit(
                model, X, y, epochs=3, progress=False, record=True, compile=compile
            ).snapshots
        )
    for (e1, p1), (e2, p2) in zip(*runs):
        assert e1 == e2
        assert p1 == pytest.approx(p2, rel=1e-9, abs=1e-12)


def test_a_recording_of_more_than_50_million_floats_is_refused_up_front():
    model = nn.MLP(2, [3, 2], seed=0)  # 17 parameters
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=r"2,941,177 snapshots × 17 parameters = 50,000,009"):
        nn.train.fit(model, [[0.0, 0.0]], [0], epochs=2_941_176, progress=False, record=True)
    assert [p.data for p in model.parameters()] == before  # nothing was trained


@pytest.mark.parametrize("bad", [0, -2, 1.5, "yes"])
def test_record_must_be_a_bool_or_a_positive_int(bad):
    model = nn.MLP(2, [2], seed=0)
    with pytest.raises(ValueError, match="record must be True, False or an integer"):
        nn.train.fit(model, [[0.0, 0.0]], [0], epochs=1, progress=False, record=bad)


# ---------------------------------------------------------------------------------------
# The data: structure, sample pass, heatmaps, health


def test_structure_names_every_neuron_and_parameter(run, view):
    model = run[0]
    data = view.data
    assert [c["name"] for c in data["columns"]] == ["in", "L0", "L1", "L2"]
    assert data["columns"][2]["neurons"] == ["L1.N0", "L1.N1", "L1.N2", "L1.N3"]
    assert data["params"] == [p.label for p in model.parameters()]
    for column in data["columns"][1:]:
        for label, w0 in zip(column["neurons"], column["w0"]):
            assert data["params"][w0] == f"{label}.w0"
    assert set(data["layout"]["neurons"]) == {n for c in data["columns"] for n in c["neurons"]}


def test_every_snapshots_sample_pass_is_the_engines(run, view):
    model, X, y, *_, history = run
    data = view.data
    i = data["sample"]["index"]
    assert data["sample"]["x"] == X[i].tolist() and data["sample"]["y"] == int(y[i])
    labels = [n for c in data["columns"] for n in c["neurons"]]
    for (epoch, params), frame in zip(history.snapshots, data["snapshots"]):
        assert frame["epoch"] == epoch and frame["params"] == params
        assert frame["loss"] == (history.loss[epoch - 1] if epoch else None)
        want = engine_pass(model, params, X[i], y[i])
        sp = frame["sample"]
        outs = [v for column in sp["out"] for v in column]
        assert outs == [want["out"][n] for n in labels]  # the same floats, not close ones
        deltas = [v for column in sp["delta"] for v in column]
        assert deltas == [want["delta"][n] for n in labels[2:]]
        assert sp["grad"] == [want["grad"][p] for p in data["params"]]
        assert sp["loss"] == want["loss"]
        # ∂L/∂z = ∂L/∂h · g'(z), and at the output ŷ − y
        for dh, gp, d in zip(sp["dh"], sp["gprime"], sp["delta"]):
            assert [a * b for a, b in zip(dh, gp)] == pytest.approx(d, abs=1e-15)
        onehot = np.eye(3)[y[i]]
        assert sp["delta"][-1] == pytest.approx(np.array(sp["probs"]) - onehot, abs=1e-12)


def test_the_default_sample_has_the_largest_loss_at_the_last_snapshot(run, view):
    model, X, y, *_, history = run
    last = history.snapshots[-1][1]
    losses = [engine_pass(model, last, X[i], y[i])["loss"] for i in range(len(X))]
    assert view.data["sample"]["index"] == int(np.argmax(losses))
    assert "largest loss" in view.data["sample"]["why"]


def test_the_model_is_left_as_it_was(run):
    model, X, y, *_, history = run
    before = [(p.data, p.grad) for p in model.parameters()]
    viz.network(model, X, y, history=history, players="none")
    assert [(p.data, p.grad) for p in model.parameters()] == before


def test_heatmaps_and_regions_are_the_engines_forward_at_grid_points(run, view):
    model, X, y, *_, history = run
    data = view.data
    G, R = data["grid"], data["region_grid"]
    labels = [n for c in data["columns"] for n in c["neurons"]]
    points = grid_points(data["box"], G)
    region_points = grid_points(data["box"], R)
    import base64

    for s in (0, 10, 20):
        frame, params = data["snapshots"][s], history.snapshots[s][1]
        q = base64.b64decode(frame["heat"]["q"])
        regions = np.frombuffer(base64.b64decode(frame["regions"]), dtype=np.uint8)
        for cell in (0, 37, G * G - 1):
            want = engine_pass(model, params, points[cell], 0)["out"]
            for k, label in enumerate(labels):
                lo, hi = frame["heat"]["lo"][k], frame["heat"]["hi"][k]
                got = dequantise(lo, hi, q[k * G * G : (k + 1) * G * G])[cell]
                assert got == pytest.approx(want[label], abs=(hi - lo) / 510 + 1e-12)
        for cell in (0, R * R // 2 + 7, R * R - 1):
            want = engine_pass(model, params, region_points[cell], 0)["out"]
            logits = [want[n] for n in data["columns"][-1]["neurons"]]
            assert regions[cell] == int(np.argmax(logits))


def test_health_figures_follow_their_definitions(run, view):
    model, X, y, *_, history = run
    data = view.data
    for s in (0, 1, 20):
        params = history.snapshots[s][1]
        health = data["snapshots"][s]["health"]
        # mean |∂L/∂W| of the mean training loss: the scalar engine over all training points
        saved = [(p.data, p.grad) for p in model.parameters()]
        for p, v in zip(model.parameters(), params):
            p.data, p.grad = v, 0.0
        total = sum(nn.softmax_cross_entropy(model(list(x)), int(t)) for x, t in zip(X, y))
        (total * (1.0 / len(X))).backward()
        grads = {p.label: p.grad for p in model.parameters()}
        with no_grad():
            hidden = [[model.layers[0]([float(a) for a in x])] for x in X]
        for p, (d, g) in zip(model.parameters(), saved):
            p.data, p.grad = d, g
        for layer in model.layers:
            W = [abs(grads[w.label]) for n in layer.neurons for w in n.w]
            assert health[layer.name]["grad"] == pytest.approx(sum(W) / len(W), rel=1e-9)
            assert health[layer.name]["saturated"] is None  # relu and linear layers
        dead = sum(all(h[0][j].data == 0 for h in hidden) for j in range(4)) / 4
        assert health["L0"]["dead"] == dead
        assert health["L2"]["dead"] is None  # the linear output layer
        if s == 0:
            assert all(h["update_ratio"] is None for h in health.values())
        else:
            before = np.array(history.snapshots[s - 1][1])
            now = np.array(params)
            idx = [data["params"].index(w.label) for n in model.layers[1].neurons for w in n.w]
            ratio = np.linalg.norm(now[idx] - before[idx]) / np.linalg.norm(before[idx])
            assert health["L1"]["update_ratio"] == pytest.approx(ratio, rel=1e-12)


def test_saturated_tanh_and_sigmoid_units_and_the_flags():
    model = nn.MLP(1, [2, 2], "tanh", seed=0)
    for n in model.layers[0].neurons:
        n.w[0].data, n.b.data = 50.0, 0.0  # tanh(50 x) is ±1 for |x| > 0.06
    X = np.array([[-1.0], [0.5], [0.001], [2.0]])
    figures = NetworkData(model, X, [0, 1, 0, 1]).health([p.data for p in model.parameters()], None)
    assert figures["L0"]["saturated"] == 0.75  # 3 points of 4, both neurons
    assert figures["L0"]["dead"] is None
    assert any("saturated" in f for f in figures["L0"]["flags"])
    assert flags({"grad": 1e-9, "dead": 0.6, "saturated": None, "update_ratio": 0.5}) == [
        HEALTH_THRESHOLDS[0][3],
        HEALTH_THRESHOLDS[2][3],
        HEALTH_THRESHOLDS[4][3],
    ]


def test_a_neurons_own_graph_gives_the_networks_gradients(run, view):
    model, X, y, *_, history = run
    data = view.data
    i, params = data["sample"]["index"], history.snapshots[-1][1]
    want = engine_pass(model, params, X[i], y[i])
    for label in ("L0.N1", "L1.N2", "L2.N0"):
        root = neuron_graph(view.builder, label, params, i)
        leaves = labelled_leaves(root)
        layer = model.layers[int(label[1])]
        neuron = layer.neurons[int(label.split("N")[1])]
        for p in (*neuron.w, neuron.b):
            assert leaves[p.label].data == params[data["params"].index(p.label)]
            assert leaves[p.label].grad == want["grad"][p.label]


def test_single_frames_are_quick_to_build_and_complete(run):
    model, X, y, *_, history = run
    builder = NetworkData(model, X, y, sample=3)
    data = builder.build([(5, history.snapshots[5][1])], history)
    assert len(data["snapshots"]) == 1 and data["snapshots"][0]["epoch"] == 5
    assert data["snapshots"][0]["loss"] == history.loss[4]
    frame = builder.frame(6, history.snapshots[6][1], previous=history.snapshots[5][1])
    assert set(frame) >= {"epoch", "params", "sample", "health", "heat", "regions"}


def test_without_data_the_view_shows_the_weights_only():
    model = nn.MLP(3, [2, 2], seed=0)
    data = viz.network(model).data
    assert "sample" not in data and len(data["snapshots"]) == 1
    assert data["snapshots"][0]["params"] == [p.data for p in model.parameters()]


def test_nan_weights_are_named_in_a_note_and_kept_as_nan(run):
    model, X, y, *_, history = run
    snapshots = [(e, list(p)) for e, p in history.snapshots[:3]]
    snapshots[-1][1][2] = math.nan
    data = NetworkData(model, X, y).build(snapshots, history)
    assert "L0.N0.b" in data["notes"][0] and "not finite" in data["notes"][0]
    assert math.isnan(data["snapshots"][-1]["params"][2])
    page = viz.NetworkView(data).html()
    assert '"NaN"' in page


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sample": 10_000}, "sample=10000 is out of range for 80 training points"),
        ({"sample": "3"}, "sample must be an int"),
        ({"players": "some"}, "players must be one of"),
        ({"precision": 0}, "precision must be an int"),
    ],
)
def test_bad_options_are_refused_with_their_value(run, kwargs, message):
    model, X, y, *_ = run
    with pytest.raises((ValueError, TypeError), match=message):
        viz.network(model, X, y, **kwargs)


def test_bad_models_and_data_are_refused():
    with pytest.raises(TypeError, match="model must be an nn.MLP"):
        viz.network(Value(1.0))
    model = nn.MLP(2, [2], seed=0)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\), got \(3, 3\)"):
        viz.network(model, np.zeros((3, 3)), [0, 1, 0])
    with pytest.raises(ValueError, match="X and y go together"):
        viz.network(model, np.zeros((3, 2)))


def test_the_page_is_one_file_with_a_static_picture_and_saves_through_viz_save(view, tmp_path):
    page = view.html()
    assert page.startswith("<!DOCTYPE html>") and "http://" not in page.replace(
        "http://www.w3.org", ""
    )
    static = page.split('<div class="agl-static">')[1].split("</div>")[0]
    assert static.startswith("<p>a network learns: the weights after epoch 20") and "<svg" in static
    assert page.count("<line ") == 2 * 4 + 4 * 4 + 4 * 3  # the static picture's weights
    path = viz.save(view, tmp_path / "n.html")
    assert path.read_text(encoding="utf-8") == page
    with pytest.raises(ValueError, match="save it to a .html file"):
        viz.save(view, tmp_path / "n.svg")
    assert view._repr_html_() in page


def test_a_wide_neuron_is_drawn_with_its_largest_terms_and_the_same_gradients():
    rng = np.random.default_rng(0)
    X, y = rng.random((12, 64)), rng.integers(0, 10, 12)
    model = nn.MLP(64, [5, 10], seed=0)
    builder = NetworkData(model, X, y)
    params = [p.data for p in model.parameters()]
    want = engine_pass(model, params, X[3], y[3])
    root = neuron_graph(builder, "L0.N2", params, 3)
    leaves = labelled_leaves(root)
    weights = [k for k in leaves if k.startswith("L0.N2.w")]
    assert len(weights) == 8 and "L0.N2.b" in leaves
    assert "Σ w·a of the other 56 inputs" in leaves
    neuron = model.layers[0].neurons[2]
    terms = sorted(range(64), key=lambda j: -abs(neuron.w[j].data * X[3][j]))[:8]
    assert sorted(weights) == sorted(f"L0.N2.w{j}" for j in terms)
    for label in weights + ["L0.N2.b"]:
        assert leaves[label].grad == pytest.approx(want["grad"][label], rel=1e-12, abs=1e-300)
    width = float(viz.to_svg(root).split('width="')[1].split("pt")[0])
    assert width < 3000  # the whole 64-input chain is some 14,000 pt wide


DOC = __import__("pathlib").Path(__file__).resolve().parents[1] / "docs" / "network_view.md"


@pytest.mark.parametrize("index", [0, 1])
def test_the_docs_examples_run_each_in_a_fresh_interpreter(index, tmp_path):
    import re
    import subprocess
    import sys

    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 2
    done = subprocess.run(
        [sys.executable, "-c", blocks[index]], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    if index == 0:
        assert (tmp_path / "network.html").stat().st_size > 0
        assert re.fullmatch(r"21 snapshots, backprop on training point \d+\n", done.stdout)
    else:
        assert done.stdout == "every ∂L/∂w on the page is the engine's p.grad\n"


def test_a_one_output_tanh_network_uses_the_logistic_loss_of_its_logit():
    X, y = nn.data.make_moons(30, seed=0)
    model = nn.MLP(2, [3, 1], "tanh", seed=0)
    loss = "binary_cross_entropy_with_logits"
    history = nn.train.fit(model, X, y, epochs=2, progress=False, record=True, loss=loss)
    data = viz.network(model, X, y, history=history, players="none").data
    assert data["loss_name"] == loss
    i, shown = data["sample"]["index"], data["snapshots"][-1]["sample"]
    model.zero_grad()
    want = nn.binary_cross_entropy_with_logits(model(list(X[i])), int(y[i]))
    want.backward()
    assert shown["loss"] == want.data
    assert shown["grad"] == [p.grad for p in model.parameters()]
    assert shown["gprime"][0] == pytest.approx([1 - h * h for h in shown["out"][1]], rel=1e-12)
    assert data["snapshots"][-1]["health"]["L0"]["saturated"] is not None


def test_set_sample_shows_another_point_from_the_next_build(run):
    model, X, y, *_, history = run
    builder = NetworkData(model, X, y)
    worst = builder.build(history=history)["sample"]["index"]
    builder.set_sample(-1)
    data = builder.build([history.snapshots[-1]], history)
    assert data["sample"]["index"] == len(X) - 1 != worst and "sample=" in data["sample"]["why"]
    want = engine_pass(model, history.snapshots[-1][1], X[-1], y[-1])
    assert data["snapshots"][0]["sample"]["loss"] == want["loss"]
    with pytest.raises(ValueError, match="sample=80 is out of range for 80 training points"):
        builder.set_sample(80)
