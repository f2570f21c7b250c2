"""``viz.network``: see a network learn, and backprop through it layer by layer, in one page.

``viz.network(model, X, y, history=history)`` returns a :class:`NetworkView`:
Jupyter shows it inline (``_repr_html_``), ``html()`` is a standalone page (one
file, no network request, opens from ``file://``) and ``save(path)`` writes it
atomically (``viz.save(view, "network.html")`` too). What a student sees:

- the inputs, each hidden layer and the output layer as columns of neurons
  (``L0.N0``, ``L0.N1``, …), one line per weight (colour: sign, width: |w|),
  each neuron's bias; for 2-D inputs every neuron is a heatmap of its output
  over the data's box, and the decision regions with the training points
  (held-out points hollow); 64 inputs are drawn as the 8×8 image;
- **the film**: with ``fit(..., record=True)``'s history a slider scrubs the
  snapshots; weights, heatmaps, regions, the loss/accuracy curves and the
  per-layer gradient health follow;
- **backprop layer by layer** for one training point: the forward pass fills
  the activations, then the backward pass goes one layer at a time, output
  first: δ = ∂L/∂z, each hidden layer's δ_l = (W_{l+1}ᵀ δ_{l+1}) ⊙ g'(z_l), every
  weight's ∂L/∂w = δ·a_prev, written as the matrix equations of
  docs/derivations.md §4.2 with this sample's numbers, all from the scalar
  engine's ``backward`` (:mod:`viz.network_data`);
- **down to the scalars**: clicking a neuron shows its own graph for this
  sample in the step-through player (``viz.player``).

The page's script and style are ``viz/network.js`` and ``viz/network.css``
(package data, inlined); the player's ``player.js``/``player.css`` come with
them for the neurons' graphs. Where scripts do not run, the page is a static
picture of the network at the last snapshot.

The contract (the live playground and any other host rely on it)
================================================================

**JavaScript.** ``network.js`` defines ``window.AutogradLiteNetwork`` and, when
it runs, mounts every ``[data-autograd-lite="network"]`` element that holds a
``<script type="application/json" class="agl-network-data">`` (the saved page,
Jupyter). A host can also mount by hand::

    var view = AutogradLiteNetwork.mount(rootElement, data, hooks);
    view.update(newData);       // replace the data (a new live frame); the UI keeps its
                                // state, and a view on the last snapshot stays on the last
    view.showPlayer(player);    // show a neuron's player in the neuron panel: an HTML string
                                // (viz.Player._repr_html_(); its own <script> is not run, the
                                // page's player.js sets it up) or {svg, data} (Player.svg/.data)
    view.go(step); view.snapshot(i); view.state()   // {snapshot, step, phase, selected}

A host page includes ``player.css`` + ``network.css`` (style), ``player.js`` then
``network.js`` (scripts), as ``NetworkView._fragment()`` does; the static picture
(``.agl-static``) is removed when the script mounts.

``hooks`` is optional: ``{onSample: function (i) {...}, onNeuron: function (label) {...}}``.
With ``onSample``, clicking a training point in the regions calls it (the host
computes that sample's pass and calls ``update``); without it the sample is
fixed. With ``onNeuron``, clicking a neuron calls it instead of showing the
embedded player (the host fetches one and calls ``showPlayer``). ``mount``
needs ``window.AutogradLitePlayer`` (player.js) for the embedded players only.

**DOM** (the issue's, in both uses): the root has ``data-autograd-lite="network"``,
``data-epoch``, ``data-loss`` (the History's loss of that epoch; empty at 0),
``data-phase`` (``idle``/``forward``/``backward``), ``data-step`` and
``data-snapshot`` (its index); each layer's ``<g>`` has ``data-layer`` (``in``,
``L0``, …) and, with a history, ``data-health`` (JSON ``{"grad", "dead",
"saturated", "update_ratio"}``, null where undefined); each neuron has
``data-neuron`` (``L1.N3``, inputs ``in.0``), ``data-out`` and ``data-delta``
(empty until the pass reaches them); each weight line ``data-param``
(``L1.N3.w2``), ``data-value`` and ``data-grad``; numbers as Python ``repr``.
Steps: 0 idle, 1 … C forward (one per column, inputs first), then one backward
step per layer, output layer first (its δ and the grads of its weights and biases).

**Python.** ``viz.network(...).data`` is the dict the page embeds;
``viz.network_data.NetworkData(model, X, y, sample=…)`` builds it without a page:
``builder.build(snapshots, history)`` for all of it (about 11 ms for one snapshot
of a 2-16-16-3), and ``builder.frame(epoch, params, previous=…, history=…)`` for one
snapshot's entry (about 15 ms with its health figures), so a live host sends
``builder.build([(epoch, params)], history)`` per frame, or appends frames to
``data["snapshots"]``. ``builder.set_sample(i)`` shows another training point from
the next build on. Keys a host may rely on (version 1):

- ``version`` (1), ``title``, ``precision``, ``loss_name``;
- ``columns``: ``[{name, kind ("input"/"hidden"/"output"), activation, neurons: [labels],
  w0: [index in params of each neuron's first weight; w_j at w0 + j, the bias after]}]``;
- ``params``: parameter labels in ``model.parameters()`` order; ``image``: ``[8, 8]`` or None;
- ``layout``: ``{width, height, neurons: {label: [x, y, size]}}``;
- ``sample``: ``{index, x, y, why}`` (with X and y);
- 2-D inputs only: ``points`` ``{x, y, test_x?, test_y?}``, ``box`` ``[x0, x1, y0, y1]``,
  ``grid``, ``region_grid``;
- ``snapshots``: per snapshot ``{epoch, params, loss, accuracy, test_loss, test_accuracy,
  sample: {out, z, dh, gprime, delta, grad, loss, probs}, health: {layer: {grad, dead,
  saturated, update_ratio, flags}}, heat: {lo, hi, q}, regions}`` (see NetworkData.frame;
  ``heat.q`` is base64 of grid² bytes per neuron, all columns' neurons in order, rows
  from the top, value = lo + (hi − lo)·q/255; ``regions`` base64 of region_grid² class
  bytes, 255 where not finite; NaN/±inf are the strings "NaN", "Infinity");
- ``curves``: ``{loss, accuracy}`` per epoch (History's), and optionally ``test``, a live
  host's held-out points ``[{epoch, test_loss, test_accuracy}]`` (else the snapshots');
  ``health_thresholds``; ``notes``;
- ``players``: ``{label: {svg, data}}``, the neurons' players at the last snapshot
  (added by ``viz.network``; ``NetworkData.build`` leaves it out); ``players_left_out``,
  how many neurons with δ ≠ 0 have no player because the page keeps to PAGE_LIMIT bytes.
"""

from __future__ import annotations

import hashlib
import html
import math
from typing import Any

from .embed import Page, script_json
from .player import _package_text

PLAYERS = ("active", "all", "none")
# The saved page (``html()``) stays within this many bytes: neurons' players are embedded
# by decreasing |δ| while they fit. A digits neuron's player is ~70 KB, so its 42 neurons
# would make a 3.5 MB page; the neurons left out show z, g'(z) and δ in words when clicked.
PAGE_LIMIT = 3_000_000


class NetworkView(Page):
    """The network view of one model; ``html()`` is the page, Jupyter shows it inline.

    Made by :func:`network`. ``data`` is everything the page shows (the keys are in
    the module docstring); ``builder`` the :class:`viz.network_data.NetworkData` that
    made it (``builder.frame`` for another snapshot, ``neuron_graph`` for a neuron).
    """

    def __init__(self, data: dict[str, Any], builder: Any = None) -> None:
        self.data = data
        self.builder = builder

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"{self.data.get('title', 'a network learns')} — autograd-lite"

    def _fragment(self) -> str:
        """The view as one element: style, static picture, data and scripts."""
        css = _package_text("player.css") + _package_text("network.css")
        data = script_json(self.data)
        ident = "agl-network-" + hashlib.sha256(data.encode()).hexdigest()[:12]
        return (
            f'<div class="agl-network" data-autograd-lite="network" id="{ident}" tabindex="0">'
            f"<style>{css}</style>"
            f'<div class="agl-static"><p>{html.escape(static_caption(self.data))}</p>'
            f"{static_svg(self.data)}</div>"
            f'<script type="application/json" class="agl-network-data">{data}</script>'
            f"<script>{_package_text('player.js')}</script>"
            f"<script>{_package_text('network.js')}</script>"
            "</div>"
        )


def network(
    model: Any,
    X: Any = None,
    y: Any = None,
    *,
    history: Any = None,
    sample: int | None = None,
    X_test: Any = None,
    y_test: Any = None,
    precision: int = 4,
    players: str = "active",
    title: str | None = None,
) -> NetworkView:
    """The network view of ``model`` (an ``nn.MLP``) on its training data (see the module).

    ``history`` is ``nn.train.fit``'s History; recorded with ``record=``, its
    snapshots make the film (without them, the model's current parameters are
    the one snapshot). ``sample`` is the training point whose backward pass is
    shown (default: the largest loss at the last snapshot). ``X_test``/``y_test``
    add held-out points and curves. ``precision``: significant digits in the
    panel's text (the DOM attributes carry full ``repr`` floats). ``players``:
    which neurons get an embedded player at the last snapshot: ``"active"``
    (those with ∂L/∂z ≠ 0 on the sample; a neuron whose δ is 0 explains why),
    ``"all"`` or ``"none"``. The model is left as it was.
    """
    from .network_data import NetworkData, neuron_graph

    if players not in PLAYERS:
        raise ValueError(f"viz.network: players must be one of {PLAYERS}, got {players!r}")
    builder = NetworkData(
        model, X, y, sample=sample, X_test=X_test, y_test=y_test, precision=precision
    )
    data = builder.build(history=history, title=title or "a network learns")
    data["players"] = {}
    if players != "none" and "sample" in data:
        import graphviz

        from .player import player

        last = data["snapshots"][-1]
        chosen = [
            (label, delta)
            for column, deltas in zip(data["columns"][1:], last["sample"]["delta"])
            for label, delta in zip(column["neurons"], deltas)
            if players == "all" or delta != 0
        ]
        # the largest |δ| first (NaN last): where the page's budget ends, the least active
        chosen.sort(key=lambda item: -abs(item[1]) if math.isfinite(item[1]) else math.inf)
        data["players_left_out"] = 0
        # what the page weighs without players; 16 bytes for the count of those left out
        room = PAGE_LIMIT - len(NetworkView(data).html().encode()) - 16
        for n, (label, _) in enumerate(chosen):
            root = neuron_graph(builder, label, last["params"], data["sample"]["index"])
            try:
                made = player(root, precision=precision)
            except (graphviz.ExecutableNotFound, OSError):  # no dot: no players
                data["players"] = {}
                data["notes"].append("Graphviz's dot is missing: no neuron graphs")
                break
            entry = {"svg": made.svg, "data": made.data}
            room -= len(script_json({label: entry}).encode())  # its key, and a comma
            if room < 0:
                data["players_left_out"] = len(chosen) - n
                break
            data["players"][label] = entry
    return NetworkView(data, builder)


# -------------------------------------------------------------------------------------
# The static picture: the network at the last snapshot, for where scripts do not run.

POSITIVE, NEGATIVE = "#2166ac", "#e08214"  # weight colours: blue positive, orange negative


def static_caption(data: dict[str, Any]) -> str:
    """What the static picture is, for where scripts do not run."""
    epoch = data["snapshots"][-1]["epoch"]
    at = f" after epoch {epoch}" if epoch else ""
    return (
        f"{data.get('title', 'a network')}: the weights{at} (blue positive, orange negative, "
        "width by size). The training film and backprop layer by layer need scripts "
        "(open the page in a browser, or trust the notebook)."
    )


def static_svg(data: dict[str, Any]) -> str:
    """An SVG of the network at the last snapshot (lines by weight, neurons by label)."""
    lay = data["layout"]
    where = lay["neurons"]
    params = data["snapshots"][-1]["params"]
    finite = [abs(v) for v in params if math.isfinite(v)]
    top = max(finite, default=1.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {lay["width"]} {lay["height"]:.1f}" '
        f'role="img" aria-label="the network at the last snapshot">'
    ]
    columns = data["columns"]
    for prev, column in zip(columns, columns[1:]):
        for label, w0 in zip(column["neurons"], column["w0"]):
            x2, y2, s2 = where[label]
            for j, source in enumerate(prev["neurons"]):
                x1, y1, s1 = where[source]
                w = params[w0 + j]
                color = POSITIVE if w >= 0 else NEGATIVE
                width = 0.3 + 3.5 * abs(w) / top if math.isfinite(w) else 1.0
                parts.append(
                    f'<line x1="{x1 + s1 / 2:.1f}" y1="{y1:.1f}" x2="{x2 - s2 / 2:.1f}" '
                    f'y2="{y2:.1f}" stroke="{color}" stroke-width="{width:.2f}" opacity="0.6"/>'
                )
    for column in columns:
        for label in column["neurons"]:
            x, y, s = where[label]
            parts.append(
                f'<rect x="{x - s / 2:.1f}" y="{y - s / 2:.1f}" width="{s:.1f}" height="{s:.1f}" '
                f'rx="3" fill="#fff" stroke="#555"><title>{html.escape(label)}</title></rect>'
            )
        x, _, _ = where[column["neurons"][0]]
        parts.append(
            f'<text x="{x:.1f}" y="16" text-anchor="middle" font-size="12">'
            f"{html.escape(column['name'])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
