"""Rendering: ``to_svg`` and ``save`` (format from the suffix, written atomically).

SVG, PNG and PDF need Graphviz's ``dot`` program; without it they raise
:class:`viz.drawing.DotNotFoundError`, which says how to install it. DOT text
(``.dot``/``.gv``) needs nothing but Python.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from autograd_lite import Value
from autograd_lite.files import atomic_write

from .dot import draw_dot

# File suffix -> Graphviz output format.
FORMATS = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
    ".html": "html",  # the step-through player (viz.player)
}


def output_format(path: str | os.PathLike[str], formats: dict[str, str] = FORMATS) -> str:
    """The format to write ``path`` in, from its suffix and a suffix -> format table.

    With the default table: 'svg', 'png', 'pdf' or 'dot' for a drawing.
    Raises ValueError naming the suffixes that work for any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in formats:
        *others, last = formats
        raise ValueError(
            f"cannot tell the format of {os.fspath(path)!r} from its suffix "
            f"({suffix or 'none'}): use a name ending in {', '.join(others)} or {last}"
        )
    return formats[suffix]


def render_bytes(root: Value, fmt: str, **options: Any) -> bytes:
    """The drawing of ``root`` as bytes in ``fmt``: svg, png, pdf, dot or html.

    ``html`` is the step-through player (``viz.player``'s options); the
    others take ``draw_dot``'s options.
    """
    if fmt not in set(FORMATS.values()):
        raise ValueError(
            f"viz.render_bytes: unknown format {fmt!r}; use svg, png, pdf, dot or html"
        )
    if fmt == "html":
        from .player import player  # the player draws with this module's helpers

        return player(root, **options).html().encode("utf-8")
    graph = draw_dot(root, **options)
    if fmt == "dot":
        return graph.source.encode("utf-8")
    return graph.pipe(format=fmt)


def to_svg(root: Value, **options: Any) -> str:
    """The drawing of ``root`` as an SVG document; takes ``draw_dot``'s options."""
    return render_bytes(root, "svg", **options).decode("utf-8")


def save(root: Value | Any, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write the drawing of ``root`` to ``path``; the suffix picks the format.

    ``.svg``, ``.png``, ``.pdf`` (these need Graphviz's ``dot``) or ``.dot``
    (DOT text) take ``draw_dot``'s options; ``.html`` writes the step-through
    player of the forward and backward pass (``viz.player``'s options). The
    file is written atomically: a reader sees the old file or the complete new
    one, and nothing is left behind on error. Returns the path.

    ``root`` may also be a page already made, a :class:`viz.NetworkView` or a
    :class:`viz.Player`: it is written as it is, to a ``.html`` path.
    """
    if not isinstance(root, Value) and hasattr(root, "html"):  # a NetworkView or a Player
        if output_format(path) != "html" or options:
            raise ValueError(
                f"viz.save: a {type(root).__name__} is a page: save it to a .html file, "
                f"without options (got {os.fspath(path)!r})"
            )
        atomic_write(path, root.html().encode("utf-8"))
        return Path(path)
    data = render_bytes(root, output_format(path), **options)
    atomic_write(path, data)
    return Path(path)
