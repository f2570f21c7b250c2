"""``viz.live``: the network view following a model while ``fit`` trains it, in Jupyter.

>>> live = viz.live(model, X, y)                  # doctest: +SKIP
>>> display(live)                                 # doctest: +SKIP
>>> nn.train.fit(model, X, y, callback=live)      # doctest: +SKIP

``live(model, X, y, **view_options)`` returns a callable ``live(epoch, history)``
— fit's ``callback`` — that redraws the view with the model's parameters after
each epoch, at most once every ``interval`` seconds (0.1: ten frames a second;
an epoch that comes sooner is drawn when the interval is over, so the last
epoch is always shown). ``view_options`` are :func:`viz.network`'s
(``sample``, ``X_test``, ``y_test``, ``precision``).

- With ``anywidget`` (the ``lab`` extra) it is a widget whose front end is
  ``viz/network.js``, the same script as the saved page and the playground:
  the view updates in place in JupyterLab, Notebook 7 and VS Code.
- Without it (or in a front end that shows no widgets) it is one picture, the
  network view's HTML, replaced in place through a display handle at each
  drawing. Outside IPython nothing is shown, and nothing fails.

The pictures are drawn from a copy of the model that holds each drawn epoch's
parameters (the model being trained is only read), by
``viz.network_data.NetworkData``; a drawing that fails warns once and never
stops training.
"""

from __future__ import annotations

import copy
import math
import threading
import time
import warnings
from importlib import resources
from typing import Any

from .embed import script_json
from .network import NetworkView

DEFAULT_INTERVAL = 0.1  # seconds between two drawings at most 10 a second

# The widget's front end: network.js (which defines window.AutogradLiteNetwork), then this.
_RENDER = """
function render({ model, el }) {
  var root = document.createElement("div");
  root.className = "agl-network";
  el.appendChild(root);
  var view = null;
  function draw() {
    var text = model.get("payload");
    if (!text) return;
    var data = JSON.parse(text);
    if (view) view.update(data);
    else view = window.AutogradLiteNetwork.mount(root, data, {});
  }
  model.on("change:payload", draw);
  draw();
  return function () { model.off("change:payload", draw); };
}
export default { render };
"""


def view_base(
    builder: Any, epoch: int | None, params: list[float], history: Any, *, why: str, title: str
) -> dict[str, Any]:
    """The network view's data without ``snapshots`` and ``curves``: what stays the same
    while a model trains (structure, layout, points, the followed sample). ``why`` says
    how the sample was chosen; a live host adds one snapshot and the curves (:func:`data`)."""
    base = builder.build([(epoch, params)], history, title=title)
    for key in ("snapshots", "curves"):
        base.pop(key, None)
    if "sample" in base:
        base["sample"]["why"] = why
    return base


def held_out(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot's held-out figures, as the view's ``curves.test`` takes them."""
    return {k: snapshot[k] for k in ("epoch", "test_loss", "test_accuracy")}


def data(
    base: dict[str, Any], snapshot: dict[str, Any], history: Any, test: list[dict[str, Any]]
) -> dict[str, Any]:
    """The whole data of the view: ``base`` with its one ``snapshot`` and the curves;
    ``test`` are the held-out figures (epoch, test_loss, test_accuracy) drawn so far."""
    curves = {"loss": list(history.loss), "accuracy": list(history.accuracy), "test": test}
    return {**base, "snapshots": [snapshot], "curves": curves}


class _Follower:
    """What the widget and the picture share: the copy of the model, the builder, the pace."""

    def _follow(self, model: Any, X: Any, y: Any, interval: float, options: dict) -> None:
        from .network_data import NetworkData

        interval = float(interval)
        if not (math.isfinite(interval) and interval >= 0):
            raise ValueError(f"viz.live: interval must be a number of seconds ≥ 0, got {interval}")
        self._model = model
        self._builder = NetworkData(copy.deepcopy(model), X, y, **options)
        self._interval = interval
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None
        self._drawn_at = -math.inf
        self._base: dict[str, Any] | None = None
        self._previous: list[float] | None = None
        self._warned = False
        self._tests: list[dict[str, Any]] = []  # held-out figures of the epochs drawn
        self.data: dict[str, Any] = {}
        self.epoch: int | None = None  # the epoch drawn last
        # The model as it is now (epoch 0), until fit calls back.
        self._pending: tuple[int, list[float], _Curves] | None = (
            0,
            [p.data for p in model.parameters()],
            _Curves([], []),
        )
        self.flush()

    def __call__(self, epoch: int, history: Any) -> None:
        """fit's callback: note the model after this epoch; draw it, now or at the interval."""
        params = [p.data for p in self._model.parameters()]
        curves = _Curves(list(history.loss), list(history.accuracy))
        with self._lock:
            self._pending = (len(curves.loss), params, curves)
            if time.monotonic() - self._drawn_at >= self._interval:
                self.flush()
            elif self._timer is None:
                wait = self._interval - (time.monotonic() - self._drawn_at)
                self._timer = threading.Timer(max(wait, 0.0), self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Draw the last noted epoch now, if it is not drawn yet."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            pending, self._pending = self._pending, None
            if pending is None:
                return
            epoch, params, curves = pending
            try:
                if self._base is None:
                    why = f"the largest loss at epoch {epoch}"
                    self._base = view_base(
                        self._builder, epoch, params, curves, why=why, title="live"
                    )
                snapshot = self._builder.frame(
                    epoch, params, previous=self._previous, history=curves
                )
                if snapshot["test_loss"] is not None and epoch > 0:
                    self._tests.append(held_out(snapshot))
                self.data = data(self._base, snapshot, curves, list(self._tests))
                self._previous, self.epoch = params, epoch
                self._drawn_at = time.monotonic()
                self._show()
            except Exception as e:  # a picture must never stop training
                if not self._warned:
                    self._warned = True
                    warnings.warn(f"viz.live: cannot draw epoch {epoch}: {e}", stacklevel=2)

    def _show(self) -> None:
        raise NotImplementedError


class _Curves:
    """The per-epoch figures the view reads (History's loss and accuracy)."""

    def __init__(self, loss: list[float], accuracy: list[float]) -> None:
        self.loss, self.accuracy = loss, accuracy


class LivePicture(_Follower):
    """``viz.live`` without a widget: one picture, replaced in place through a display handle."""

    def __init__(self, model: Any, X: Any, y: Any, interval: float, options: dict) -> None:
        self._handle: Any = None
        self._follow(model, X, y, interval, options)

    def _show(self) -> None:
        if self._handle is not None:
            self._handle.update(NetworkView(self.data))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self._handle = display(NetworkView(self.data), display_id=True)

    def _repr_html_(self) -> str:
        return NetworkView(self.data)._repr_html_()


_WIDGET: type | None = None


def _widget_class() -> type:
    """The anywidget class (made once: it needs anywidget, imported only here)."""
    global _WIDGET
    if _WIDGET is None:
        import anywidget
        import traitlets

        files = resources.files("viz")
        text = {name: files.joinpath(name).read_text("utf-8") for name in _FILES}

        class LiveWidget(_Follower, anywidget.AnyWidget):
            """``viz.live`` as a widget: network.js draws ``payload`` (the view's data as
            JSON) and redraws it whenever it changes."""

            _esm = text["network.js"] + _RENDER
            _css = text["player.css"] + text["network.css"]
            payload = traitlets.Unicode("").tag(sync=True)

            def __init__(self, model: Any, X: Any, y: Any, interval: float, options: dict):
                anywidget.AnyWidget.__init__(self)
                self._follow(model, X, y, interval, options)

            def _show(self) -> None:
                self.payload = script_json(self.data)

            def _repr_mimebundle_(self, **kwargs: Any) -> Any:
                """The widget, and for a front end without widgets the view as HTML."""
                shown = super()._repr_mimebundle_(**kwargs)
                if shown is None:
                    return None
                bundle, metadata = shown
                return {**bundle, "text/html": NetworkView(self.data)._repr_html_()}, metadata

        _WIDGET = LiveWidget
    return _WIDGET


_FILES = ("network.js", "network.css", "player.css")


def live(
    model: Any, X: Any, y: Any, *, interval: float = DEFAULT_INTERVAL, **view_options: Any
) -> Any:
    """The network view of ``model`` on (X, y), following it as it trains (see the module).

    Returns a widget (with anywidget) or a picture (without), either of them a
    callable ``(epoch, history)`` to pass as ``fit(..., callback=...)``;
    ``.data`` is the view's data of the epoch drawn last, ``.epoch`` that epoch,
    ``.flush()`` draws the last epoch at once. ``view_options``: ``sample``,
    ``X_test``, ``y_test``, ``precision`` (as :func:`viz.network`).
    """
    try:
        cls = _widget_class()
    except ImportError:
        return LivePicture(model, X, y, interval, view_options)
    return cls(model, X, y, interval, view_options)
