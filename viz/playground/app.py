"""The playground's web app: a Starlette ASGI app around one :class:`~.state.Playground`.

Routes (each needs ``?token=TOKEN``; without it, or with another, 403 — the
WebSocket's handshake too):

- ``GET /``: the page (:func:`page`): the controls, an error line, the
  network view's root element, and the scripts;
- ``GET /static/NAME``: the page's files from the package (``viz/network.js``,
  ``network.css``, ``player.js``, ``player.css``, ``playground.js``,
  ``playground.css``): no CDN, no build step, works offline;
- ``WS /ws``: the page sends JSON messages (:meth:`Playground.handle`); the
  server answers each with ``{"type": "ok" | "error", "id": …}`` and pushes
  ``{"type": "frame", …}`` to every open page whenever the run changed, at most
  :data:`FPS` times a second. Every tab sees the same run.

A frame carries ``status`` (settings, epoch, loss, running, speed, error), the
latest epoch's ``snapshot`` (``viz.network_data.NetworkData.frame``), the
curves' new entries since what this page has, and, when the page does not have
it yet (a new page, a new model), the ``base``: the rest of the network view's
data (``NetworkData.build``'s structure, layout, points). The page puts them
together and calls ``AutogradLiteNetwork``'s ``update``.

Frames are built from the floats the training thread publishes: while training
runs, by the training thread between two epochs (``Playground.frame_hook``),
else in a worker thread; the event loop only sends them, so the server never
waits for training (``benchmarks/bench_playground.py`` measures what drawing
costs training).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import secrets
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..embed import script_json
from .state import ACTIONS, CHOICES, DEFAULTS, Playground, PlaygroundError

FPS = 12  # frames a second at most, to each page (the issue asks for at least 10)
STATIC = {
    "network.js": "text/javascript",
    "network.css": "text/css",
    "player.js": "text/javascript",
    "player.css": "text/css",
    "playground.js": "text/javascript",
    "playground.css": "text/css",
}
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token never leaves in a Referer
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def new_token() -> str:
    """A random token for the URL, as Jupyter's (48 hex digits)."""
    return secrets.token_hex(24)


class TokenGate:
    """ASGI middleware: a request (HTTP or WebSocket) without ``?token=`` equal to the
    server's gets 403 (for a WebSocket: its handshake is refused, which uvicorn sends as
    403), before any route runs."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._allowed(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            response = PlainTextResponse(
                "403 Forbidden: open the URL the playground printed, with its ?token=\n",
                status_code=403,
                headers=HEADERS,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        from urllib.parse import parse_qs

        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = query.get("token", [""])[-1]
        return secrets.compare_digest(given.encode("utf-8", "replace"), self.token.encode())


class _Page:
    """One open page: what it has been sent, and the frame waiting for it."""

    def __init__(self, socket: WebSocket) -> None:
        self.socket = socket
        self.base_id = -1  # the base it has
        self.curves = 0  # curve entries it has, of run base_id
        self.tests = 0  # held-out entries it has
        self.outbox: list[str] = []  # replies, in order
        self.wake = asyncio.Event()

    def post(self, text: str) -> None:
        self.outbox.append(text)
        self.wake.set()


class Hub:
    """The open pages and the frames they get: built once, sent to each page with its
    own share of the curves (what it lacks)."""

    def __init__(self, playground: Playground) -> None:
        self.playground = playground
        self.pages: set[_Page] = set()
        self.latest: dict[str, Any] | None = None  # the last frame built, as parts
        self.frames = 0  # frames built so far (benchmarks/bench_playground.py reads it)
        self.ticker: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def run(self) -> None:
        """Send a frame whenever the run changed and a page is open, at most FPS a second.

        While training runs, the training thread builds the frames (``frame_hook``);
        otherwise (a pause, a new setting) they are built here, in a worker thread.
        """
        self.loop = asyncio.get_running_loop()
        self.playground.frame_interval = 1.0 / FPS
        version = None
        while True:
            # A look at the version FPS times a second: waiting on it in a thread would wake
            # at every epoch and take the interpreter's lock from training each time.
            await asyncio.sleep(1.0 / FPS)
            now = self.playground.version
            if not self.pages or now == version or self.playground.running:
                version = now if self.pages else None
                continue
            version = now
            try:
                self.deliver(await asyncio.to_thread(self.parts, self.playground.frame()))
            except Exception as e:  # a frame that cannot be drawn: say so, keep serving
                message = json.dumps({"type": "error", "message": f"cannot draw the view: {e}"})
                for page in list(self.pages):
                    page.post(message)

    def publish(self, frame: dict[str, Any]) -> None:
        """``frame_hook``: a frame from the training thread, encoded there, sent from the loop."""
        parts = self.parts(frame)
        self.loop.call_soon_threadsafe(self.deliver, parts)

    def deliver(self, parts: dict[str, Any]) -> None:
        """Make ``parts`` the latest frame and wake every page's sender."""
        if self.latest is not None and parts["version"] < self.latest["version"]:
            return  # an older frame that arrived late
        self.latest = parts
        self.frames += 1
        for page in list(self.pages):
            page.wake.set()

    async def open(self, page: _Page) -> None:
        """A new page: frames from now on; the latest one at once (built if it is stale)."""
        self.pages.add(page)
        self.playground.frame_hook = self.publish
        if self.latest is None or self.latest["version"] != self.playground.version:
            self.deliver(await asyncio.to_thread(lambda: self.parts(self.playground.frame())))
        page.wake.set()

    def close(self, page: _Page) -> None:
        self.pages.discard(page)
        if not self.pages:
            self.playground.frame_hook = None

    def parts(self, frame: dict[str, Any]) -> dict[str, Any]:
        """The frame's parts as JSON text: status, snapshot, base, and the curves."""
        return {
            "version": frame["status"]["version"],
            "status": script_json(frame["status"]),
            "snapshot": script_json(frame["snapshot"]),
            "base_id": frame["base_id"],
            "base": frame["base"],
            "curves": frame["curves"],
        }

    def message(self, page: _Page) -> str | None:
        """The latest frame as this page needs it (None if it has it already)."""
        parts = self.latest
        if parts is None:
            return None
        base = ""
        if page.base_id != parts["base_id"]:
            base = f',"base":{script_json(parts["base"])}'
            page.base_id, page.curves, page.tests = parts["base_id"], 0, 0
        curves = parts["curves"]
        start = min(page.curves, len(curves["loss"]))
        test_start = min(page.tests, len(curves["test"]))
        tail = {k: curves[k][start:] for k in ("loss", "accuracy")}
        tail.update(test_start=test_start, test=curves["test"][test_start:])
        page.curves, page.tests = len(curves["loss"]), len(curves["test"])
        return (
            f'{{"type":"frame","base_id":{parts["base_id"]},"status":{parts["status"]},'
            f'"snapshot":{parts["snapshot"]},"curves":{script_json({"start": start, **tail})}'
            f"{base}}}"
        )

    async def pump(self, page: _Page) -> None:
        """Send this page its replies, then the newest frame, whenever there is something."""
        sent: int | None = None
        while True:
            await page.wake.wait()
            page.wake.clear()
            while page.outbox:
                await page.socket.send_text(page.outbox.pop(0))
            latest = self.latest
            if latest is not None and id(latest) != sent:
                sent = id(latest)
                text = self.message(page)
                if text is not None:
                    await page.socket.send_text(text)


async def _socket(socket: WebSocket) -> None:
    hub: Hub = socket.app.state.hub
    await socket.accept()
    page = _Page(socket)
    await hub.open(page)
    pump = asyncio.create_task(hub.pump(page))
    try:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", "replace")
            page.post(await _answer(hub.playground, text))
    except WebSocketDisconnect:
        pass
    finally:
        hub.close(page)
        pump.cancel()
        with contextlib.suppress(BaseException):
            await pump


async def _answer(playground: Playground, text: str) -> str:
    """The reply to one message: ``ok`` (with what the action gave) or ``error``."""
    ident = _message_id(text)
    try:
        reply = await asyncio.to_thread(playground.handle, text)
    except PlaygroundError as e:
        reply = {"type": "error", "message": str(e)}
    except Exception as e:  # a bug: the page says so, the server lives on
        reply = {"type": "error", "message": f"internal error: {type(e).__name__}: {e}"}
    if ident is not None:
        reply["id"] = ident
    return script_json(reply)


def _message_id(text: str) -> int | None:
    """The ``id`` the page gave its message (an int), to echo in the reply."""
    try:
        ident = json.loads(text).get("id")
    except Exception:
        return None
    return ident if isinstance(ident, int) and not isinstance(ident, bool) else None


async def _index(request: Request) -> Response:
    token = request.query_params["token"]
    return HTMLResponse(page(token), headers=HEADERS)


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        return PlainTextResponse("404 Not Found\n", status_code=404, headers=HEADERS)
    body = resources.files("viz").joinpath(name).read_bytes()
    return Response(body, media_type=STATIC[name], headers=HEADERS)


def page(token: str) -> str:
    """The playground's page: the controls (the issue's names), the error line, the view's
    root (``data-autograd-lite="network"``, ``data-running``), the package's scripts."""
    q = f"?token={html.escape(token)}"
    config = script_json({"choices": CHOICES, "defaults": DEFAULTS, "actions": ACTIONS})

    def select(name: str, label: str) -> str:
        options = "".join(f'<option value="{c}">{c}</option>' for c in CHOICES[name])
        return f'<label>{label} <select name="{name}">{options}</select></label>'

    def field(name: str, label: str, kind: str = "text", extra: str = "") -> str:
        return (
            f'<label>{label} <input name="{name}" type="{kind}" autocomplete="off" '
            f'spellcheck="false"{extra}></label>'
        )

    buttons = "".join(
        f'<button type="button" data-action="{a}">{t}</button>'
        for a, t in (
            ("play", "▶ play"),
            ("pause", "❚❚ pause"),
            ("step", "+1 epoch"),
            ("reset", "↺ reset"),
            ("save", "save model"),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>autograd-lite playground</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="static/player.css{q}">
<link rel="stylesheet" href="static/network.css{q}">
<link rel="stylesheet" href="static/playground.css{q}">
</head><body class="agl-playground">
<form class="agl-pg-controls" data-role="controls" autocomplete="off">
<fieldset><legend>data</legend>
{select("dataset", "data set")}
{field("points", "points", "number", ' min="10" step="1"')}
{field("noise", "noise", "number", ' min="0" step="any"')}
{field("test_fraction", "held out", "number", ' min="0" max="0.99" step="any"')}
{field("seed", "seed", "number", ' min="0" step="1"')}
</fieldset>
<fieldset><legend>network</legend>
{field("hidden", "hidden layers", "text", ' placeholder="16,16" size="9"')}
{select("activation", "activation")}
</fieldset>
<fieldset><legend>training</legend>
{select("optimizer", "optimizer")}
{field("lr", "learning rate", "text", ' size="7"')}
{field("batch_size", "batch size", "number", ' min="1" step="1"')}
{field("weight_decay", "weight decay", "text", ' size="6"')}
<label>engine <select name="engine"><option value="compile">compile</option>\
<option value="scalar">scalar</option></select></label>
</fieldset>
<div class="agl-pg-buttons">{buttons}
<span class="agl-pg-readout" data-role="readout" aria-live="off">connecting…</span></div>
</form>
<p class="agl-pg-error" data-role="error" role="alert" hidden></p>
<p class="agl-pg-note" data-role="note" aria-live="polite"></p>
<div class="agl-network agl-pg-view" data-autograd-lite="network" data-epoch="0" data-loss=""
 data-running="false" tabindex="0"></div>
<script type="application/json" id="agl-pg-config">{config}</script>
<script src="static/player.js{q}"></script>
<script src="static/network.js{q}"></script>
<script src="static/playground.js{q}"></script>
</body></html>
"""


def create_app(playground: Playground, token: str) -> ASGIApp:
    """The ASGI app: the routes above behind the token gate; frames while pages are open."""
    hub = Hub(playground)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        hub.ticker = asyncio.create_task(hub.run())
        try:
            yield
        finally:
            hub.ticker.cancel()
            with contextlib.suppress(BaseException):
                await hub.ticker
            await asyncio.to_thread(playground.close)

    app = Starlette(
        routes=[
            Route("/", _index),
            Route("/static/{name}", _static),
            WebSocketRoute("/ws", _socket),
        ],
        lifespan=lifespan,
    )
    app.state.hub = hub
    return TokenGate(app, token)
