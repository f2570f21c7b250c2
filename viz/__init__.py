"""viz: computation graphs of autograd_lite Values, drawn with Graphviz.

>>> from autograd_lite import Value
>>> import viz
>>> x, w, b = Value(0.5, label="x"), Value(-3.0, label="w"), Value(2.0, label="b")
>>> y = (x * w + b).tanh()
>>> y.backward()
>>> graph = viz.draw_dot(y)        # a graphviz.Digraph: shown inline in Jupyter
>>> "data 0.5" in graph.source     # numbers in 4 significant digits (precision=)
True
>>> page = viz.player(y).html()    # step through forward and backward: a standalone page

``viz.network(model, X, y, history=history)`` is the network view: the
network's neurons and weights, the training film, and backprop layer by
layer on one training point (:mod:`viz.network`); ``viz.save(view, "network.html")``.
``viz.live(model, X, y)`` follows a model as ``fit(..., callback=live)`` trains it, in
Jupyter (:mod:`viz.live`: a widget with anywidget, else a picture updated in place).

``viz.to_svg(y)`` gives the SVG text and ``viz.save(y, "graph.png")`` writes a
file (.svg, .png, .pdf or .dot, from the suffix). All three take the options
of :func:`draw_dot`; ``viz.save(y, "graph.html")`` writes the player
(:func:`player`, shown inline by Jupyter too). Rendering (not ``.source``, not ``.dot`` files) needs
Graphviz's ``dot`` program; without it :class:`DotNotFoundError` says how to
install it.

Modules: :mod:`viz.dot` (the drawing), :mod:`viz.style` (kinds, colours,
legend), :mod:`viz.groups` (neuron clusters), :mod:`viz.collapse` (one node
per neuron), :mod:`viz.render` (SVG, files), :mod:`viz.drawing` (the
Digraph subclass and the missing-``dot`` error), :mod:`viz.player` (the
step-through player, with ``player.js`` and ``player.css``), :mod:`viz.network`
and :mod:`viz.network_data` (the network view, with ``network.js`` and
``network.css``), :mod:`viz.plots` (a classifier's decision boundary and loss
curve, with matplotlib). The plots need NumPy and matplotlib, so :mod:`viz.plots`
is imported the first time one of its functions is used, and ``import viz``
loads neither.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .dot import DEFAULT_MAX_EDGES, DEFAULT_MAX_LAYOUT, DEFAULT_MAX_NODES, draw_dot
from .drawing import DotNotFoundError, Drawing, GraphTooLargeError
from .live import live
from .network import NetworkView, network
from .player import Player, player
from .render import FORMATS, atomic_write, output_format, render_bytes, save, to_svg

__all__ = [
    "DEFAULT_MAX_EDGES",
    "DEFAULT_MAX_LAYOUT",
    "DEFAULT_MAX_NODES",
    "FORMATS",
    "DotNotFoundError",
    "Drawing",
    "GraphTooLargeError",
    "NetworkView",
    "Player",
    "atomic_write",
    "draw_dot",
    "live",
    "network",
    "output_format",
    "player",
    "plot_decision_boundary",
    "plot_loss",
    "render_bytes",
    "save",
    "to_svg",
]

if TYPE_CHECKING:
    from . import plots as plots
    from .plots import plot_decision_boundary, plot_loss

_PLOTS = ("plot_decision_boundary", "plot_loss")  # from viz.plots, imported on first use


def __getattr__(name: str) -> Any:
    """Import :mod:`viz.plots` (NumPy, matplotlib) only when a plot is asked for (PEP 562)."""
    if name != "plots" and name not in _PLOTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    plots = importlib.import_module(".plots", __name__)
    globals().update({n: getattr(plots, n) for n in _PLOTS})  # later lookups skip this
    return plots if name == "plots" else globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
