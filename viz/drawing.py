"""``Drawing``: the ``graphviz.Digraph`` that ``draw_dot`` returns, and the missing-``dot`` error.

A Drawing is an ordinary Digraph (``.source`` gives the DOT text, Jupyter
shows it inline) whose rendering methods turn graphviz's terse
``ExecutableNotFound`` into :class:`DotNotFoundError`, which says how to
install Graphviz. Jupyter gets the picture twice: as SVG (sharp, shown where
the output is trusted) and as a PNG beside it, which JupyterLab and Notebook 7
show in a notebook that is not trusted (they never render an untrusted SVG).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable, Iterator
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


PNG_SCALE = 2  # the PNG fallback has twice the pixels of the size it is shown at (HiDPI)


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk (bytes 16-24)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


class Drawing(graphviz.Digraph):
    """A Digraph whose rendering errors say how to install Graphviz."""

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **_: Any,
    ) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
        """What Jupyter shows: the SVG, and a PNG of the same picture that needs no trust.

        The PNG is rendered at ``PNG_SCALE`` times the 96 dpi of a CSS pixel and
        displayed at the SVG's size (``width``/``height`` metadata), so it is
        sharp on a HiDPI screen. Returns ``(data, metadata)`` as IPython expects.
        """
        wanted = {"image/svg+xml", "image/png"} if include is None else set(include)
        wanted -= set(exclude or ())
        data: dict[str, str] = {}
        metadata: dict[str, dict[str, int]] = {}
        if "image/svg+xml" in wanted:
            data["image/svg+xml"] = self.pipe(format="svg", encoding="utf-8")
        if "image/png" in wanted:
            dpi = str(96 * PNG_SCALE)
            png = self.copy()
            png.graph_attr["dpi"] = dpi
            rendered = png.pipe(format="png")
            width, height = png_size(rendered)
            data["image/png"] = base64.b64encode(rendered).decode("ascii")
            metadata["image/png"] = {
                "width": round(width / PNG_SCALE),
                "height": round(height / PNG_SCALE),
            }
        return data, metadata

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
