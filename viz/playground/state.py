"""The playground's state: one :class:`Playground` object holds the run, the page drives it.

Everything the page can do is a method here, so the tests drive it without a
browser or a server: :meth:`Playground.configure` (the controls), :meth:`play`,
:meth:`pause`, :meth:`step`, :meth:`reset`, :meth:`save`, :meth:`select`
(a training point), :meth:`neuron` (a neuron's scalar player), and
:meth:`handle`, which takes one decoded message from the page and calls them.
Bad input raises :class:`PlaygroundError` and changes nothing.

Training runs in one worker thread, through ``nn.train.fit`` itself (the same
steps, the same :class:`~nn.train.DivergenceError`) with the compiled replay
(``engine="compile"``) or the scalar engine. ``fit`` runs while the page says
play; its callback, after every epoch, publishes the parameters (a list of
floats) and the epoch's loss, and ends the call (an exception of ours) when the
page pauses or changes what a call fixes (batch size, engine, optimizer). A
reset or a new model interrupts a call between two batches.

The page's picture is built from the published floats only, on a copy of the
model (:attr:`view_model`), so drawing never touches the parameters being
trained: :meth:`frame` gives the status and the network view's data
(``viz.network``'s builder) of the latest epoch. ``version`` counts the
changes; :meth:`wait` blocks until it moves, which is how the server knows
when to send a frame. While training runs, the training thread itself builds a
frame every ``frame_interval`` seconds between two epochs and gives it to
``frame_hook`` (the server's), so that frames and training never contend for
the interpreter.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from autograd_lite.cli import common
from autograd_lite.cli.train import (
    ACTIVATIONS,
    DATASETS,
    DEMO,
    REAL_DATASETS,
    SGD_MOMENTUM,
    CommandError,
    check_size,
)
from viz.live import held_out, view_base

OPTIMIZERS = ("sgd", "adam", "adamw")
ENGINES = ("compile", "scalar")
# What the page starts with: the demo's spirals and network, 20% held out, compiled.
DEFAULTS: dict[str, Any] = {
    "dataset": DEMO["dataset"],
    "points": DEMO["points"],
    "noise": None,  # the data set's own default (nn.data's)
    "test_fraction": 0.2,
    "seed": DEMO["seed"],
    "hidden": list(DEMO["hidden"]),
    "activation": DEMO["activation"],
    "optimizer": DEMO["optimizer"],
    "lr": DEMO["lr"],
    "batch_size": DEMO["batch_size"],
    "weight_decay": 0.0,
    "engine": "compile",
}
# Beyond train's limits (cli/common.py): a learning rate above MAX_LR, a noise above
# MAX_NOISE or a weight decay above MAX_WEIGHT_DECAY is refused, not trained into NaN.
MAX_LR = 10.0
MAX_NOISE = 2.0
MAX_WEIGHT_DECAY = 1.0
# Sizes are checked as train checks a run of this many epochs (cli/train.py check_size),
# so that one epoch stays short enough to watch: at most MAX_WORK / 100 per epoch.
SIZE_EPOCHS = 100
MAX_TEXT = 100  # characters of one field; longer text is refused without being echoed
MAX_MESSAGE = 10_000  # characters of one message from the page
SPEED_WINDOW = 2.0  # seconds over which epochs/s is measured

# Settings whose change makes new data, or a new model: the run starts again at epoch 0.
DATA_SETTINGS = ("dataset", "points", "noise", "test_fraction", "seed")
MODEL_SETTINGS = ("hidden", "activation")
# Settings that a call of fit fixes: a running call ends after its epoch and another starts.
CALL_SETTINGS = ("optimizer", "batch_size", "engine")


class PlaygroundError(ValueError):
    """Bad input from the page (a setting, an action, a message): the page shows the text."""


class _Stop(Exception):
    """Raised inside fit's callback or an optimizer step to end the current call of fit."""


def _noise(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and 0.0 <= value <= MAX_NOISE):
        raise ValueError
    return value


def _hidden(text: str) -> list[int]:
    """``16,16`` → [16, 16] with train's limits; empty (or ``0``) → no hidden layer."""
    if text.strip() in ("", "0", "-"):
        return []
    return common.layer_sizes(text)


def _bounded(parse: Callable[[str], Any], limit: float, what: str) -> Callable[[str], Any]:
    def bounded(text: str) -> Any:
        value = parse(text)
        if value > limit:
            raise ValueError(f"expected {what} of at most {limit:g}, got {text!r}")
        return value

    return bounded


# Each setting's parser: the page's text → the value, or an exception whose text says why.
PARSERS: dict[str, Callable[[str], Any]] = {
    "points": common.points,
    "noise": common.checked(_noise, lambda x: True, f"a noise from 0 to {MAX_NOISE:g}"),
    "test_fraction": common.fraction,
    "seed": common.checked(int, lambda n: 0 <= n < 2**32, "an integer from 0 to 2**32 − 1"),
    "hidden": _hidden,
    "lr": _bounded(common.learning_rate, MAX_LR, "a learning rate"),
    "batch_size": _bounded(common.positive_int, common.MAX_POINTS, "a batch size"),
    "weight_decay": common.checked(
        float,
        lambda x: math.isfinite(x) and 0.0 <= x <= MAX_WEIGHT_DECAY,
        f"a weight decay from 0 to {MAX_WEIGHT_DECAY:g}",
    ),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "dataset": DATASETS + REAL_DATASETS,
    "activation": ACTIVATIONS,
    "optimizer": OPTIMIZERS,
    "engine": ENGINES,
}
ACTIONS = ("play", "pause", "step", "reset", "save")


def parse_setting(name: str, value: Any) -> Any:
    """One setting from the page (text or a JSON number) as the playground keeps it.

    Raises PlaygroundError naming the setting and the value.
    """
    if name not in DEFAULTS:
        raise PlaygroundError(f"unknown setting {_clip(name)}; settings: {', '.join(DEFAULTS)}")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PlaygroundError(f"{name}: expected text or a number, got {_clip(value)}")
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_TEXT:
        raise PlaygroundError(f"{name}: expected at most {MAX_TEXT} characters, got {len(text)}")
    if name in CHOICES:
        if text not in CHOICES[name]:
            raise PlaygroundError(
                f"{name}: unknown {name} {text!r}; choose one of {', '.join(CHOICES[name])}"
            )
        return text
    if name == "noise" and text.strip() == "":
        return None
    try:
        return PARSERS[name](text.strip())
    except Exception as e:  # argparse's ArgumentTypeError, ValueError: their text says why
        raise PlaygroundError(f"{name}: {e or 'invalid value ' + repr(text)}") from None


def _field_name(match: re.Match[str]) -> str:
    """``--batch-size`` → ``batch_size``: a train option as the page's field is named."""
    return "_".join(g for g in match.groups() if g)


def _clip(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _History:
    """The whole run's per-epoch figures (``fit``'s History across its calls)."""

    def __init__(self) -> None:
        self.loss: list[float] = []
        self.accuracy: list[float] = []
        self.seconds: list[float] = []
        self.test: list[dict[str, Any]] = []  # held-out figures at the frames drawn


class Playground:
    """The run the page shows and drives (see the module docstring).

    ``out`` is the folder "save model" writes into; ``settings`` override DEFAULTS
    (checked as the page's are). Attributes read by the server and the tests:
    ``settings`` (a copy is returned by :meth:`status`), ``epoch``, ``running``,
    ``error`` (the text of the last DivergenceError, until the next reset, play or
    step), ``version``. A run that diverges goes back to its last good epoch's
    weights (with a fresh optimizer), so it can be reset or played on.
    """

    def __init__(
        self, out: str | Path = common.DEFAULT_OUT, settings: Mapping[str, Any] | None = None
    ) -> None:
        self.out = Path(out)
        self.settings: dict[str, Any] = dict(DEFAULTS)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._view_lock = threading.Lock()  # the view model, one drawing at a time
        self.version = 0
        self.running = False
        self.error: str | None = None
        self._steps = 0  # single epochs asked for (the "step" button)
        self._model_id = 0  # bumped by a new model: a running call of fit stops at once
        self._call_id = 0  # bumped by a change of CALL_SETTINGS: the call ends after its epoch
        self._closed = False
        self._worker: threading.Thread | None = None
        self._finished: deque[float] = deque()  # perf_counter() of recent epochs' ends
        self.sample: int | None = None  # the training point the view follows (None: its choice)
        self._base_id = 0  # bumped with each new builder: a new model, or another sample
        self._clicked = False  # whether the page chose the sample
        self._base_epoch = 0  # the epoch at which the view's base (and its sample) was made
        # While training runs, the training thread builds a frame every frame_interval
        # seconds and hands it to frame_hook (the server's), if one is set.
        self.frame_hook: Callable[[dict[str, Any]], None] | None = None
        self.frame_interval = 0.1
        self._frame_at = -math.inf
        if settings:
            self.settings.update(self._checked(settings))
        self._use_data(*_make_data(self.settings))

    # ------------------------------------------------------------------------------
    # The controls

    def configure(self, changes: Mapping[str, Any]) -> None:
        """Apply the page's settings (text or numbers): all of them, or none and an error.

        A new data set or model (DATA_SETTINGS, MODEL_SETTINGS) starts again at
        epoch 0 and pauses; ``lr`` and ``weight_decay`` act on the next step;
        CALL_SETTINGS on the next epoch.
        """
        if not isinstance(changes, Mapping):
            raise PlaygroundError(f"settings: expected an object, got {_clip(changes)}")
        new = self._checked(changes)
        with self._lock:
            old = self.settings
            changed = {k for k, v in new.items() if old.get(k) != v}
            if "dataset" in changed and "noise" not in changes:
                new["noise"] = None  # the new data set's own default noise
                changed.add("noise")
            if not changed:
                return
            settings = {**old, **new}
            if changed & set(DATA_SETTINGS):
                data = _make_data(settings)  # may refuse (PlaygroundError): nothing changed yet
                self.settings = settings
                self._use_data(*data)
            elif changed & set(MODEL_SETTINGS):
                self.settings = settings
                self._new_model()
            else:
                self.settings = settings
                if "optimizer" in changed:
                    self.optimizer = self._make_optimizer(self.model)
                else:
                    self.optimizer.lr = self.settings["lr"]
                    self.optimizer.weight_decay = self.settings["weight_decay"]
                if changed & set(CALL_SETTINGS):
                    self._call_id += 1
            self._touch()

    def _checked(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The parsed settings, and the size check of the run they make (train's limits)."""
        if not isinstance(changes, Mapping):
            raise PlaygroundError(f"settings: expected an object, got {_clip(changes)}")
        new = {str(k): parse_setting(str(k), v) for k, v in changes.items()}
        merged = {**self.settings, **new}
        if merged["dataset"] in REAL_DATASETS and merged["points"] > _ROWS[merged["dataset"]]:
            rows = _ROWS[merged["dataset"]]
            raise PlaygroundError(
                f"points: {merged['dataset']} has {rows:,} images, got {merged['points']:,}"
            )
        try:
            check_size({**merged, "epochs": SIZE_EPOCHS})
        except CommandError as e:  # its text names train's options: say the page's names
            text = re.sub(r"--([a-z]+)-([a-z]+)|--([a-z]+)", _field_name, str(e))
            raise PlaygroundError(
                f"too big for the playground (train's limits for {SIZE_EPOCHS} epochs): {text}"
            ) from None
        return new

    def play(self) -> None:
        """Train epoch after epoch until :meth:`pause`."""
        with self._lock:
            self.error = None
            self.running = True
            self._start()
            self._touch()

    def pause(self) -> None:
        """Stop after the epoch being trained; the view then shows that epoch."""
        with self._lock:
            self.running = False
            self._steps = 0
            self._touch()

    def step(self) -> None:
        """Train one epoch (when paused; while running it pauses after the current one)."""
        with self._lock:
            self.error = None
            if self.running:
                self.running = False
            else:
                self._steps += 1
                self._start()
            self._touch()

    def reset(self) -> None:
        """The model's initial weights again (from the seed), epoch 0, paused, no error;
        the view follows the largest loss again (a clicked point is forgotten)."""
        with self._lock:
            self._clicked = False
            self._new_model()
            self._touch()

    def save(self) -> Path:
        """Write the model at the epoch shown (``nn.save`` JSON, atomic) into ``out``."""
        import nn

        with self._lock:
            params, epoch = list(self._params), self.epoch
            shape = "-".join(str(n) for n in [self.X.shape[1], *self.settings["hidden"], self.k])
            name = f"playground-{self.settings['dataset']}-{shape}-epoch{epoch}.json"
        path = self.out / name
        with self._view_lock:
            for p, v in zip(self.view_model.parameters(), params):
                p.data = v
            try:
                self.out.mkdir(parents=True, exist_ok=True)
                nn.save(self.view_model, path)
            except OSError as e:
                raise PlaygroundError(f"save: cannot write {path}: {e.strerror or e}") from None
            except ValueError as e:  # a weight is not finite
                raise PlaygroundError(str(e)) from None
        return path

    def select(self, index: Any) -> None:
        """Follow training point ``index`` in the view (its forward and backward pass)."""
        with self._lock:
            if isinstance(index, bool) or not isinstance(index, int):
                raise PlaygroundError(f"sample: expected a point's index, got {_clip(index)}")
            if not 0 <= index < len(self.X):
                raise PlaygroundError(
                    f"sample: no training point {index}; there are {len(self.X)} (0 to "
                    f"{len(self.X) - 1})"
                )
            self.sample, self._clicked = index, True
            self._builder = None  # the builder keeps its sample: a new one follows this one
            self._touch()

    # ------------------------------------------------------------------------------
    # Messages from the page

    def handle(self, message: Any) -> dict[str, Any]:
        """Do what one message from the page says; return the reply for that page.

        Messages are JSON text or its decoded object: ``{"type": "settings",
        "settings": {...}}``, ``{"type": "action", "action": "play"}`` (ACTIONS),
        ``{"type": "sample", "index": 3}``, ``{"type": "neuron", "label": "L1.N0"}``.
        The reply is ``{"type": "ok", ...}`` (``path`` for a save, ``player`` for a
        neuron). Anything else raises PlaygroundError.
        """
        if isinstance(message, (str, bytes)):
            message = decode(message)
        if not isinstance(message, dict):
            raise PlaygroundError(f"message: expected a JSON object, got {_clip(message)}")
        kind = message.get("type")
        if kind == "settings":
            self.configure(message.get("settings"))
            return {"type": "ok"}
        if kind == "action":
            action = message.get("action")
            if action not in ACTIONS:
                raise PlaygroundError(
                    f"action: unknown action {_clip(action)}; actions: {', '.join(ACTIONS)}"
                )
            if action == "save":
                return {"type": "ok", "saved": str(self.save())}
            getattr(self, action)()
            return {"type": "ok"}
        if kind == "sample":
            self.select(message.get("index"))
            return {"type": "ok"}
        if kind == "neuron":
            return {"type": "ok", "neuron": self.neuron(message.get("label"))}
        raise PlaygroundError(
            f"message: unknown type {_clip(kind)}; types: settings, action, sample, neuron"
        )

    # ------------------------------------------------------------------------------
    # What the page shows

    def status(self) -> dict[str, Any]:
        """The run in a few JSON-able figures: settings, epoch, latest loss, speed, error."""
        with self._lock:
            now = time.perf_counter()
            while self._finished and now - self._finished[0] > SPEED_WINDOW:
                self._finished.popleft()
            speed = 0.0
            if self.running and len(self._finished) >= 2:
                span = self._finished[-1] - self._finished[0]
                speed = (len(self._finished) - 1) / span if span > 0 else 0.0
            s = self.settings
            return {
                "settings": {**s, "hidden": ",".join(map(str, s["hidden"]))},
                "noise_default": noise_default(self.settings["dataset"]),
                "epoch": self.epoch,
                "loss": self.history.loss[-1] if self.history.loss else None,
                "accuracy": self.history.accuracy[-1] if self.history.accuracy else None,
                "running": self.running,
                "speed": speed,
                "error": self.error,
                "points": len(self.X),
                "held_out": 0 if self.X_test is None else len(self.X_test),
                "shape": [self.X.shape[1], *self.settings["hidden"], self.k],
                "version": self.version,
            }

    def frame(self) -> dict[str, Any]:
        """The page's frame at the latest epoch, built from the published parameters:
        ``status``; ``snapshot``, the network view's data of this epoch
        (``NetworkData.frame``); ``curves``, the whole run's per-epoch loss and accuracy
        and ``test``, the held-out figures of the frames drawn so far;
        ``base``, the rest of the view's data (``NetworkData.build`` without snapshots
        and curves), which changes only with the model or the followed sample
        (``base_id`` counts those changes)."""
        with self._lock:
            status = self.status()
            params, epoch, previous = list(self._params), self.epoch, self._previous
            if not self._clicked and not self.running and self._builder is not None:
                # paused: follow the point that teaches most now, the largest loss at these
                # weights (while running, the view keeps one point so it does not jump)
                # (a new base names the epoch: "the largest loss at epoch 7")
                worst = self._builder.worst_sample(params)
                if worst != self.sample or self._base_epoch != epoch:
                    self.sample, self._builder = worst, None
            history = _History()
            history.loss, history.accuracy = list(self.history.loss), list(self.history.accuracy)
            if self._builder is None:
                self._builder, self._base = self._make_builder(), None
                self._base_id += 1
                self._base_epoch = epoch
            builder, base_id = self._builder, self._base_id
        with self._view_lock:
            base = self._base if builder is self._builder else None
            if base is None:
                base = self._make_base(builder, epoch, params, history)
            snapshot = builder.frame(epoch, params, previous=previous, history=history)
        with self._lock:
            if builder is self._builder:
                self._base = base
                if self.sample is None:
                    self.sample = builder.sample  # the worst point, chosen once per model
                tests = self.history.test
                if snapshot["test_loss"] is not None and (not tests or tests[-1]["epoch"] < epoch):
                    tests.append(held_out(snapshot))
            test = list(self.history.test)
        return {
            "type": "frame",
            "status": status,
            "snapshot": snapshot,
            "curves": {"loss": history.loss, "accuracy": history.accuracy, "test": test},
            "base": base,
            "base_id": base_id,
        }

    def _make_base(
        self, builder: Any, epoch: int, params: list[float], history: Any
    ) -> dict[str, Any]:
        if self._clicked:
            why = "chosen by a click"
        else:
            why = f"the largest loss at epoch {epoch}; click a point to follow another"
        return view_base(builder, epoch, params, history, why=why, title="playground")

    def neuron(self, label: Any) -> dict[str, Any]:
        """Neuron ``label``'s own graph on the followed training point at the epoch shown,
        as the step-through player's parts (``viz.player``): ``svg``, ``data``, and a
        ``caption`` that says which neuron, point and epoch."""
        import viz
        from viz.network_data import neuron_graph

        if not isinstance(label, str) or len(label) > MAX_TEXT:
            raise PlaygroundError(
                f"neuron: expected a neuron's label such as 'L0.N0', got {_clip(label)}"
            )
        with self._lock:
            params, epoch = list(self._params), self.epoch
            if self._builder is None:
                self._builder, self._base = self._make_builder(), None
                self._base_id += 1
            builder = self._builder
        with self._view_lock:
            index = builder.sample if builder.sample is not None else builder.worst_sample(params)
            try:
                root = neuron_graph(builder, label, params, index)
                player = viz.player(root)
            except ValueError as e:  # no such neuron
                raise PlaygroundError(f"neuron: {e}") from None
            except viz.DotNotFoundError as e:
                raise PlaygroundError(f"neuron: cannot draw its graph: {e}") from None
        caption = (
            f"{label} on training point {index} at epoch {epoch}: its own graph of scalar "
            f"Values. The root is its output times ∂L/∂{label}, so backward gives each of its "
            "weights ∂L/∂w; step through it with the player's buttons."
        )
        return {"label": label, "svg": player.svg, "data": player.data, "caption": caption}

    def wait(self, version: int, timeout: float | None = None) -> int:
        """Block until ``version`` is not the current one (or ``timeout``); return the current."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != version or self._closed, timeout)
            return self.version

    def close(self) -> None:
        """Stop training and end the worker thread (it is a daemon: exiting does not wait)."""
        with self._lock:
            self._closed = True
            self.running = False
            self._model_id += 1
            self._changed.notify_all()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=5.0)

    # ------------------------------------------------------------------------------
    # The run

    def _touch(self) -> None:
        self.version += 1
        self._changed.notify_all()

    def _use_data(self, X: Any, y: Any, X_test: Any, y_test: Any) -> None:
        """Train on (X, y) from now on, held-out (X_test, y_test) or None; a new model."""
        self.X, self.y, self.X_test, self.y_test = X, y, X_test, y_test
        self.k = int(y.max()) + 1 if X_test is None else int(max(y.max(), y_test.max())) + 1
        self.sample, self._clicked = None, False
        self._new_model()

    def _new_model(self) -> None:
        """The model of the settings with its initial weights, epoch 0, paused."""
        import nn

        s = self.settings
        sizes = [*s["hidden"], self.k]
        self.model = nn.MLP(self.X.shape[1], sizes, s["activation"], seed=s["seed"])
        self.view_model = nn.MLP(self.X.shape[1], sizes, s["activation"], seed=s["seed"])
        self.optimizer = self._make_optimizer(self.model)
        self._model_id += 1
        self.running = False
        self._steps = 0
        self.error = None
        self.epoch = 0
        self.history = _History()
        self._params = [p.data for p in self.model.parameters()]
        self._previous: list[float] | None = None
        self._finished.clear()
        self._builder = None
        self._base: dict[str, Any] | None = None
        if not self._clicked:
            self.sample = None  # the new model's own worst point

    def _make_optimizer(self, model: Any) -> Any:
        import nn

        s = self.settings
        params, lr, wd = model.parameters(), s["lr"], s["weight_decay"]
        if s["optimizer"] == "sgd":
            return nn.optim.SGD(params, lr=lr, momentum=SGD_MOMENTUM, weight_decay=wd)
        kind = nn.optim.Adam if s["optimizer"] == "adam" else nn.optim.AdamW
        return kind(params, lr=lr, weight_decay=wd)

    def _make_builder(self) -> Any:
        from viz.network_data import NetworkData

        return NetworkData(
            self.view_model,
            self.X,
            self.y,
            X_test=self.X_test,
            y_test=self.y_test,
            sample=self.sample,
        )

    def _start(self) -> None:
        """Start the worker thread if it is not running; wake it."""
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="playground-train", daemon=True)
            self._worker.start()
        self._changed.notify_all()

    def _work(self) -> None:
        """The worker thread: one call of fit per stretch of play (or per step)."""
        import nn

        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._closed or self.running or self._steps > 0)
                if self._closed:
                    return
                stepping = not self.running
                epochs = 1 if stepping else common.MAX_EPOCHS - self.epoch
                if stepping:
                    self._steps -= 1
                if epochs < 1:  # the run reached train's limit of epochs
                    self.running = False
                    self.error = f"the run reached the limit of {common.MAX_EPOCHS:,} epochs"
                    self._touch()
                    continue
                model, optimizer, s = self.model, self.optimizer, self.settings
                model_id, call_id = self._model_id, self._call_id
                X, y, seed, start = self.X, self.y, s["seed"] + self.epoch, self.epoch
            try:
                nn.train.fit(
                    model,
                    X,
                    y,
                    optimizer=_Interruptible(optimizer, self, model_id),
                    epochs=epochs,
                    batch_size=s["batch_size"],
                    progress=False,
                    seed=seed,
                    compile=s["engine"] == "compile",
                    callback=self._callback(model_id, call_id, stepping),
                )
            except _Stop:
                pass
            except nn.train.DivergenceError as e:  # fit counts this call's epochs: the run's
                text = re.sub(r"in epoch \d+", f"in epoch {start + e.epoch}", str(e), count=1)
                self._diverged(text, model_id)
            except Exception as e:  # a bug must not kill the thread silently: the page says it
                self._diverged(f"training failed: {type(e).__name__}: {e}", model_id)

    def _callback(self, model_id: int, call_id: int, stepping: bool) -> Callable[[int, Any], None]:
        return lambda epoch, history: self._after_epoch(history, model_id, call_id, stepping)

    def _after_epoch(self, history: Any, model_id: int, call_id: int, stepping: bool) -> None:
        """fit's callback: publish the epoch; end the call if the page asked for it."""
        with self._lock:
            if model_id != self._model_id:
                raise _Stop
            self._previous = self._params
            self._params = [p.data for p in self.model.parameters()]
            self.epoch += 1
            self.history.loss.append(history.loss[-1])
            self.history.accuracy.append(history.accuracy[-1])
            self.history.seconds.append(history.seconds[-1])
            now = time.perf_counter()
            self._finished.append(now)
            self._touch()
            if stepping or not self.running or call_id != self._call_id:
                raise _Stop
            hook = self.frame_hook
            if hook is None or now - self._frame_at < self.frame_interval:
                return
            self._frame_at = now
        # Drawn here, between two epochs, rather than by a thread of its own: two threads
        # would share the interpreter's lock and each frame's many short NumPy calls would
        # wait for it again and again (a frame took ~10× as long, training slowed 2×).
        try:
            hook(self.frame())
        except Exception as e:  # a frame that cannot be drawn must not stop training
            with self._lock:
                self.frame_hook = None
                self.error = f"cannot draw the view: {type(e).__name__}: {e}"
                self._touch()

    def _diverged(self, message: str, model_id: int) -> None:
        """The run stopped: keep the last good epoch's weights, show the message."""
        with self._lock:
            if model_id != self._model_id:
                return
            for p, v in zip(self.model.parameters(), self._params):
                p.data = v
            self.optimizer = self._make_optimizer(self.model)
            self.running = False
            self._steps = 0
            shown = f"the view shows epoch {self.epoch}, the last before it"
            self.error = f"{message} ({shown}; reset, or play on with other settings)"
            self._touch()


class _Interruptible:
    """The optimizer fit sees: the playground's, but a step after a reset ends the call."""

    def __init__(self, optimizer: Any, playground: Playground, model_id: int) -> None:
        self._optimizer, self._playground, self._model_id = optimizer, playground, model_id

    @property
    def lr(self) -> float:
        return self._current().lr

    def _current(self) -> Any:
        # The playground's optimizer for this model now (a new optimizer takes over at once).
        if self._playground._model_id != self._model_id:
            raise _Stop
        return self._playground.optimizer

    def zero_grad(self) -> None:
        self._current().zero_grad()

    def step(self) -> None:
        self._current().step()


# The real data sets' rows (points may not exceed them).
_ROWS = {"digits": 1797}


def _make_data(settings: Mapping[str, Any]) -> tuple[Any, Any, Any, Any]:
    """The settings' data set, ``(X, y, X_test, y_test)`` (the last two None when nothing
    is held out): train's loader, then ``nn.data.train_test_split``."""
    import nn
    from autograd_lite.cli.train import _load

    try:
        X, y = _load(settings)
    except CommandError as e:  # digits without scikit-learn
        raise PlaygroundError(f"dataset: {e}") from None
    if settings["test_fraction"] == 0:
        return X, y, None, None
    try:
        X, X_test, y, y_test = nn.data.train_test_split(
            X, y, test_fraction=settings["test_fraction"], seed=settings["seed"]
        )
    except ValueError as e:
        raise PlaygroundError(f"test_fraction: {e}") from None
    return X, y, X_test, y_test


def noise_default(dataset: str) -> float | None:
    """The noise ``nn.data`` gives ``dataset`` when none is asked for (None: not a toy set)."""
    import inspect

    import nn

    if dataset not in nn.data.DATASETS:
        return None
    keyword = nn.data.NOISE[dataset]
    return inspect.signature(nn.data.DATASETS[dataset]).parameters[keyword].default


def decode(text: str | bytes) -> Any:
    """A message's JSON, or PlaygroundError (malformed, too long, or NaN/Infinity in it)."""
    import json

    if len(text) > MAX_MESSAGE:
        raise PlaygroundError(f"message: expected at most {MAX_MESSAGE:,} characters")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise PlaygroundError(f"message: not valid JSON ({_first_line(e)})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _first_line(e: Exception) -> str:
    return re.split(r"[\r\n]", str(e), maxsplit=1)[0][:200]
