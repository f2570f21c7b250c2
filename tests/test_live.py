"""viz.live: the view follows fit (widget and picture), without Jupyter; the widget's front
end in headless Chromium."""

from __future__ import annotations

import json
import sys
import time

import pytest

import nn
import viz

live_module = sys.modules["viz.live"]  # the module (viz.live is the function)


@pytest.fixture
def setting():
    X, y = nn.data.make_spirals(60, seed=0)
    return nn.MLP(2, [4, 3], seed=0), X, y


def fit(model, X, y, callback, epochs=3):
    return nn.train.fit(
        model, X, y, epochs=epochs, callback=callback, compile=True, progress=False, batch_size=20
    )


def test_the_widget_updates_on_every_callback(setting):
    pytest.importorskip("anywidget")
    model, X, y = setting
    widget = viz.live(model, X, y, interval=0)
    assert type(widget).__name__ == "LiveWidget" and widget.epoch == 0
    seen = []
    widget.observe(lambda change: seen.append(json.loads(change["new"])), names="payload")
    history = fit(model, X, y, widget)
    assert [d["snapshots"][0]["epoch"] for d in seen] == [1, 2, 3]
    last = seen[-1]
    assert last["snapshots"][0]["params"] == [p.data for p in model.parameters()]
    assert last["curves"] == {"loss": history.loss, "accuracy": history.accuracy, "test": []}
    assert last["snapshots"][0]["loss"] == history.loss[-1]
    assert last["sample"]["why"] == "the largest loss at epoch 0"
    bundle, _ = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert 'data-autograd-lite="network"' in bundle["text/html"]  # without widgets: the view


def test_the_pace_draws_the_last_epoch_late_not_never(setting):
    pytest.importorskip("anywidget")
    model, X, y = setting
    widget = viz.live(model, X, y, interval=0.3)
    fit(model, X, y, widget, epochs=5)
    assert widget.epoch < 5  # the later epochs came too soon
    deadline = time.monotonic() + 5
    while widget.epoch != 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert widget.epoch == 5  # drawn when the interval was over
    assert json.loads(widget.payload)["snapshots"][0]["epoch"] == 5


def test_without_anywidget_one_picture_is_updated(setting, monkeypatch):
    monkeypatch.setitem(sys.modules, "anywidget", None)
    monkeypatch.setattr(live_module, "_WIDGET", None)
    model, X, y = setting
    picture = viz.live(model, X, y, interval=0)
    assert type(picture).__name__ == "LivePicture"
    fit(model, X, y, picture, epochs=1)  # not displayed (a script): nothing shown, no error

    class Handle:
        def __init__(self) -> None:
            self.shown = []

        def update(self, view) -> None:
            self.shown.append(view)

    handle = Handle()
    displayed = []
    import IPython.display

    def display(obj, display_id=False):
        displayed.append(obj)
        return handle

    monkeypatch.setattr(IPython.display, "display", display)
    picture._ipython_display_()
    assert [v.data["snapshots"][0]["epoch"] for v in displayed] == [1]
    fit(model, X, y, picture, epochs=2)
    assert [v.data["snapshots"][0]["epoch"] for v in handle.shown] == [1, 2]
    assert isinstance(handle.shown[-1], viz.NetworkView)
    assert handle.shown[-1].data["snapshots"][0]["params"] == [p.data for p in model.parameters()]
    assert picture._repr_html_().startswith('<div class="agl-network" data-autograd-lite="network"')


def test_a_drawing_that_fails_warns_and_training_goes_on(setting, monkeypatch):
    model, X, y = setting
    picture = live_module.LivePicture(model, X, y, 0, {})
    monkeypatch.setattr(picture._builder, "frame", lambda *a, **k: 1 / 0)
    with pytest.warns(UserWarning, match="viz.live: cannot draw epoch 1: division by zero"):
        history = fit(model, X, y, picture, epochs=2)
    assert len(history.loss) == 2


def test_bad_interval():
    with pytest.raises(ValueError, match="interval must be a number of seconds ≥ 0, got -1"):
        viz.live(nn.MLP(2, [3]), [[0.0, 0.0]], [0], interval=-1)


def test_the_widget_front_end_draws_and_redraws(setting):
    """The widget's ESM (network.js + render) in Chromium, with a stand-in for the widget
    model: the view mounts from ``payload`` and follows a new one."""
    pytest.importorskip("anywidget")
    from browser import chromium

    model, X, y = setting
    widget = viz.live(model, X, y, interval=0)
    first = widget.payload
    fit(model, X, y, widget, epochs=2)
    with chromium() as driver:
        driver.get("data:text/html,<!DOCTYPE html><html><body></body></html>")
        epochs = driver.execute_async_script(
            """
            var done = arguments[arguments.length - 1];
            var esm = arguments[0], payloads = [arguments[1], arguments[2]];
            var current = payloads[0], handlers = {};
            var model = {get: function () { return current; },
                         on: function (e, f) { handlers[e] = f; }, off: function () {}};
            var url = URL.createObjectURL(new Blob([esm], {type: "text/javascript"}));
            import(url).then(function (module) {
              module.default.render({model: model, el: document.body});
              var root = document.querySelector('[data-autograd-lite="network"]');
              var seen = [root.getAttribute("data-epoch")];
              current = payloads[1];
              handlers["change:payload"]();
              seen.push(root.getAttribute("data-epoch"), root.getAttribute("data-loss"));
              seen.push(document.querySelectorAll("[data-param]").length);
              seen.push(document.querySelectorAll(".agl-curves polyline.agl-loss").length);
              done(seen);
            }, function (e) { done(String(e)); });
            """,
            widget._esm,
            first,
            widget.payload,
        )
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert epochs[:2] == ["0", "2"], epochs
    assert float(epochs[2]) == pytest.approx(json.loads(widget.payload)["curves"]["loss"][-1])
    assert epochs[3] == 2 * 4 + 4 * 3  # one line per weight
    assert epochs[4] == 1  # the loss curve, which epoch 0 did not have
    assert errors == []


def test_held_out_points_make_a_curve(setting):
    model, X, y = setting
    X_test, y_test = nn.data.make_spirals(30, seed=1)
    picture = live_module.LivePicture(model, X, y, 0, {"X_test": X_test, "y_test": y_test})
    fit(model, X, y, picture, epochs=3)
    test = picture.data["curves"]["test"]
    assert [t["epoch"] for t in test] == [1, 2, 3]
    loss, accuracy = nn.train.evaluate(model, X_test, y_test)
    assert test[-1]["test_loss"] == pytest.approx(loss, rel=1e-9)
    assert test[-1]["test_accuracy"] == pytest.approx(accuracy)
