"""Data inside a page's ``<script>``: JSON that no string can break out of.

The player and the network view carry their data as
``<script type="application/json">…</script>``. Labels are user data, so the
JSON is written so that nothing in it can end that element or start another
one, whatever a string holds:

- ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e``, ``\\u0026``, so no
  ``</script>``, ``<!--`` or ``<script`` can appear in the text (the HTML
  parser's script-data states only react to ``<``);
- U+2028 and U+2029 (line breaks to old JavaScript parsers) become escapes;
- a lone surrogate (``"\\ud800"``, which UTF-8 cannot encode) becomes its
  ``\\uXXXX`` escape, so the page can always be written;
- a float that JSON cannot hold (NaN, ±inf) becomes the string ``"NaN"``,
  ``"Infinity"`` or ``"-Infinity"``, which JavaScript's ``Number()`` reads back.

``JSON.parse`` of the element's text gives back exactly the data (with those
three strings where the floats were).

:class:`Page` is what the player and the network view share: shown inline by
Jupyter, a standalone document with ``html()``, written atomically with ``save()``.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from autograd_lite.files import atomic_write

_UNSAFE = re.compile("[<>&\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _finite(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by its JavaScript name (a string)."""
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return "NaN" if obj != obj else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def script_json(data: Any) -> str:
    """``data`` as JSON that is safe as the text of a ``<script type="application/json">``.

    >>> script_json({"label": "</script><!--<script>", "x": float("nan")})
    '{"label":"\\\\u003c/script\\\\u003e\\\\u003c!--\\\\u003cscript\\\\u003e","x":"NaN"}'
    """
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a NaN or an infinity somewhere: name it, then write again
        text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"))
    return _UNSAFE.sub(_escape, text)


class Page:
    """A page of its own: subclasses give ``title`` and ``_fragment()``, one HTML element
    holding its style, data and scripts."""

    title: str

    def _fragment(self) -> str:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        """Shown inline by Jupyter (the scripts run in a trusted notebook)."""
        return self._fragment()

    def html(self) -> str:
        """A complete standalone HTML document (no network request of any kind)."""
        title = html.escape(self.title)
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
            f"<title>{title}</title></head>\n<body>{self._fragment()}</body></html>\n"
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`html` to ``path`` atomically; returns the path."""
        atomic_write(path, self.html().encode("utf-8"))
        return Path(path)
