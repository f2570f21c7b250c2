"""The playground: train a network live in the browser (``autograd-lite playground``).

- :mod:`viz.playground.state`: :class:`Playground`, the run (data, model, optimizer,
  a training thread) and everything the page can do to it, testable without a browser;
- :mod:`viz.playground.app`: the Starlette app that serves the page and pushes frames
  over a WebSocket (needs the ``playground`` extra: starlette, uvicorn, websockets).

The page draws with the network view's script (``viz/network.js``); its own
``viz/playground.js`` and ``viz/playground.css`` are the controls and the socket.
"""

from __future__ import annotations

from .state import DEFAULTS, Playground, PlaygroundError

__all__ = ["DEFAULTS", "Playground", "PlaygroundError"]
