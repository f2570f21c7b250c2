"""``Drawing``: the ``graphviz.Digraph`` that ``draw_dot`` returns, and the missing-``dot`` error.

A Drawing is an ordinary Digraph (``.source`` gives the DOT text, Jupyter
shows it inline) whose rendering methods turn graphviz's terse
``ExecutableNotFound`` into :class:`DotNotFoundError`, which says how to
install Graphviz. Jupyter gets the picture twice: as SVG (sharp, shown where
the output is trusted) and as a PNG beside it, which JupyterLab and Notebook 7
show in a notebook that is not trusted (they never render an untrusted SVG).

Drawing time is bounded twice. Before Graphviz runs, ``draw_dot`` estimates
the layout's size with :func:`layout_size` (Graphviz places a virtual node on
every rank a long edge passes, and its crossing reduction grows much faster
than their count) and refuses a graph beyond ``max_layout``. And ``Drawing.pipe`` stops
``dot`` after ``LAYOUT_TIMEOUT`` seconds. Both raise :class:`GraphTooLargeError`
naming the numbers and what to do. A label longer than Graphviz reads in one
string (16,384 bytes) is refused before ``dot`` runs, with a ValueError.
"""

from __future__ import annotations

import base64
import shutil
import struct
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import graphviz

# Seconds ``dot`` may take to lay out and render one picture before it is stopped (None:
# no limit). Pictures within draw_dot's budgets take well under a second to a few seconds.
LAYOUT_TIMEOUT: float | None = 20.0
# The longest quoted string (a label) Graphviz's DOT reader accepts, in bytes.
MAX_LABEL_BYTES = 16_384

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
    """A Digraph whose rendering errors say how to install Graphviz, whose labels are
    checked against Graphviz's limit, and whose layout stops after LAYOUT_TIMEOUT."""

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

    def pipe(
        self, format: str | None = None, *args: Any, encoding: str | None = None, **kwargs: Any
    ) -> Any:
        """Like ``Digraph.pipe``, bounded: raises DotNotFoundError when ``dot`` is missing,
        ValueError for a label Graphviz cannot read, GraphTooLargeError when ``dot`` takes
        longer than ``LAYOUT_TIMEOUT`` seconds. (Other options go to graphviz unbounded.)"""
        source = self.source
        check_labels(source)
        if args or kwargs:
            with explain_missing_dot():
                return super().pipe(format, *args, encoding=encoding, **kwargs)
        dot = shutil.which("dot")
        if dot is None:
            raise DotNotFoundError()
        command = [dot, f"-K{self.engine}", f"-T{format or self.format}"]
        try:
            done = subprocess.run(  # noqa: S603 - dot from PATH, our own DOT text on stdin
                command, input=source.encode("utf-8"), capture_output=True, timeout=LAYOUT_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            raise GraphTooLargeError(
                f"Graphviz's dot did not lay the graph out within {LAYOUT_TIMEOUT:g} s "
                f"(viz.drawing.LAYOUT_TIMEOUT; {source.count(' -> '):,} edges): draw a smaller "
                "graph, or one node per neuron with collapse=True"
            ) from None
        except FileNotFoundError:  # dot went away between which() and run()
            raise DotNotFoundError() from None
        if done.returncode != 0:
            raise graphviz.CalledProcessError(
                done.returncode, command, output=done.stdout, stderr=done.stderr
            )
        return done.stdout.decode(encoding) if encoding else done.stdout

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Like ``Digraph.render``; raises DotNotFoundError when ``dot`` is missing and
        ValueError for a label Graphviz cannot read. (Not bounded in time: use pipe.)"""
        check_labels(self.source)
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


def check_labels(source: str) -> None:
    """Raise ValueError if a line of the DOT text holds a label longer than Graphviz reads.

    Each node is one line of ``source``; its label is most of it.
    """
    for number, line in enumerate(source.splitlines(), start=1):
        size = len(line.encode("utf-8"))
        if size > MAX_LABEL_BYTES:
            start = line.split("label=", 1)[-1][:40]
            raise ValueError(
                f"viz: a label is too long for Graphviz (line {number} of the DOT text has "
                f"{size:,} bytes; Graphviz reads at most {MAX_LABEL_BYTES:,} in one label): "
                f"shorten the Value's label (it starts {start!r})"
            )


def layout_size(edges: Iterable[tuple[str, str]]) -> tuple[int, int]:
    """(ranks, virtual nodes) of a drawing with these edges, as Graphviz's ``dot`` lays it out.

    Each node is ranked as late as it can be (its longest path to a sink, counted back
    from the deepest), and an edge that spans k ranks costs k − 1 virtual nodes: ``dot``
    routes it through one on each rank between, and its crossing reduction, the slow
    part, works on them all. A value used all along a long chain (a weight shared by
    every point of a loss) makes most of them; a plain chain of 3,000 ops makes none
    and lays out in seconds.
    """
    edges = list(edges)
    successors: dict[str, list[str]] = {}
    predecessors: dict[str, list[str]] = {}
    for a, b in edges:
        successors.setdefault(a, []).append(b)
        predecessors.setdefault(b, []).append(a)
        successors.setdefault(b, [])
    if not successors:
        return 0, 0
    pending = {node: len(after) for node, after in successors.items()}
    height = dict.fromkeys(successors, 0)
    ready = [node for node, count in pending.items() if count == 0]
    while ready:
        node = ready.pop()
        for before in predecessors.get(node, ()):
            height[before] = max(height[before], height[node] + 1)
            pending[before] -= 1
            if pending[before] == 0:
                ready.append(before)
    virtual = sum(height[a] - height[b] - 1 for a, b in edges)
    return max(height.values()) + 1, virtual
