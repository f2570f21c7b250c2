"""``Drawing``: the ``graphviz.Digraph`` that ``draw_dot`` returns, and the missing-``dot`` error.

A Drawing is an ordinary Digraph (``.source`` gives the DOT text, Jupyter
shows it inline) whose rendering methods turn graphviz's terse
``ExecutableNotFound`` into :class:`DotNotFoundError`, which says how to
install Graphviz.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import graphviz

INSTALL_HINT = (
    "install Graphviz: sudo apt-get install graphviz (Debian/Ubuntu), "
    "brew install graphviz (macOS) or conda install -c conda-forge graphviz"
)


class GraphTooLargeError(ValueError):
    """The graph has more nodes or edges than a drawing's ``max_nodes``/``max_edges`` allow.

    A ValueError whose message says how many there are and how to draw it anyway.
    """


class DotNotFoundError(graphviz.ExecutableNotFound):
    """Graphviz's ``dot`` program is not on PATH, so nothing can be rendered.

    A subclass of ``graphviz.ExecutableNotFound`` (a RuntimeError), so code
    that already catches graphviz's error keeps working.
    """

    def __init__(self, what: str = "render the graph") -> None:
        RuntimeError.__init__(
            self,
            f"Graphviz's 'dot' program was not found on PATH, so viz cannot {what}; "
            f"{INSTALL_HINT}. Without it, draw_dot(root).source still gives the DOT text "
            "and viz.save(root, 'graph.dot') still works.",
        )


@contextmanager
def explain_missing_dot(what: str = "render the graph") -> Iterator[None]:
    """Re-raise graphviz's ExecutableNotFound as DotNotFoundError (with install commands)."""
    try:
        yield
    except DotNotFoundError:
        raise
    except graphviz.ExecutableNotFound:
        raise DotNotFoundError(what) from None


class Drawing(graphviz.Digraph):
    """A Digraph whose rendering errors say how to install Graphviz."""

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        """Like ``Digraph.pipe``; raises DotNotFoundError when ``dot`` is missing."""
        with explain_missing_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Like ``Digraph.render``; raises DotNotFoundError when ``dot`` is missing."""
        with explain_missing_dot():
            return super().render(*args, **kwargs)


def new_drawing(rankdir: str) -> Drawing:
    """An empty Drawing with the attributes every viz picture shares."""
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_dot: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    return Drawing(
        name="autograd_lite",
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "10"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.7"},
    )
