"""``autograd-lite playground``: train a network live in the browser, on a local web app.

The command binds the socket itself (so a port in use is one line and exit 2,
and ``--port 0`` gets a free port it can print), prints
``playground: http://HOST:PORT/?token=TOKEN`` as its first line, opens a
browser when there is a display, and serves ``viz.playground``'s ASGI app with
uvicorn until Ctrl-C (exit 0). Every request needs the token (403 without it).
Starlette and uvicorn come with the ``playground`` extra; they are imported
only when the command runs.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import socket
import sys
import threading
import time
from typing import Any

from . import common
from .common import CommandError, Subparsers

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
INSTALL = "pip install 'autograd-lite[playground]'"
port_number = common.checked(int, lambda n: 0 <= n <= 65535, "a port from 0 to 65535")


def cmd_playground(args: argparse.Namespace) -> int:
    """Serve the playground until Ctrl-C; return 0."""
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as e:
        raise CommandError(
            f"the playground needs Starlette and uvicorn ({e.name} is missing): {INSTALL}"
        ) from None
    one_blas_thread()
    from viz.playground.app import create_app, new_token
    from viz.playground.state import Playground

    out = common.output_dir(args.out)
    listener = bind(args.host, args.port)
    port = listener.getsockname()[1]
    token = new_token()
    url = f"http://{url_host(args.host)}:{port}/?token={token}"
    try:
        app = create_app(Playground(out), token)
        common.write_stdout(f"playground: {url}\n")
        if not loopback(args.host):
            print(
                f"autograd-lite: warning: --host {args.host} serves the playground to every "
                "machine that can reach this one (plain HTTP, not encrypted); anyone with the "
                "URL's token can use it",
                file=sys.stderr,
            )
        print(f"saving models into {out}; Ctrl-C stops the playground", file=sys.stderr)
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        server = uvicorn.Server(config)
        if not args.no_browser and has_display():
            threading.Thread(target=_open_when_up, args=(server, url), daemon=True).start()
        try:
            server.run(sockets=[listener])
        except KeyboardInterrupt:  # uvicorn shut down, then raised the SIGINT it caught
            pass
    finally:
        listener.close()
    print("playground: stopped", file=sys.stderr)
    return 0


# BLAS libraries read these when NumPy loads them.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread() -> None:
    """One BLAS thread, unless the environment says otherwise (before NumPy is imported).

    The frames' products are small (a 48×48 grid through a 2-16-16-3): more threads
    do not make them faster, and OpenBLAS's idle threads spin, taking the CPU from
    training (benchmarks/bench_playground.py: 300 epochs per CPU-second without a
    page; with one, 123 with OpenBLAS's threads and 267 with one thread).
    """
    if "numpy" not in sys.modules:
        for name in BLAS_THREADS:
            os.environ.setdefault(name, "1")


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket listening on (host, port), or CommandError in one line (port in use, …).

    It listens before the URL is printed, so the URL works the moment it is read.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise CommandError(f"argument --host: cannot resolve {host!r}: {e.strerror}") from None
    family, kind, proto, _, address = infos[0]
    listener = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":  # on Windows SO_REUSEADDR would let two servers share the port
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(128)  # connections wait in the backlog until uvicorn serves them
    except OSError as e:
        listener.close()
        if e.errno == errno.EADDRINUSE:
            raise CommandError(
                f"port {port} on {host} is in use; choose another with --port "
                "(--port 0 picks a free one)"
            ) from None
        raise CommandError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return listener


def url_host(host: str) -> str:
    """The host as a URL writes it: an IPv6 address in brackets."""
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def has_display() -> bool:
    """Whether a browser could open a window here (macOS, Windows, or X11/Wayland)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_when_up(server: Any, url: str) -> None:
    import webbrowser

    for _ in range(100):
        if server.started:
            webbrowser.open(url)
            return
        time.sleep(0.1)


def register(sub: Subparsers) -> None:
    """Add the ``playground`` command."""
    parser = sub.add_parser(
        "playground",
        help="train a network live in the browser: controls, play/pause, the network view",
        description=(
            "A local web app: choose a data set (moons, spirals, blobs, circles, xor, digits), "
            "the hidden layers, activation, optimizer and learning rate, press play, and watch "
            "the network view (weights, heatmaps, decision regions, loss curves, gradient "
            "health) change as the real engine trains, compiled or scalar. At a pause, click a "
            "training point for its backward pass layer by layer, or a neuron for its scalar "
            "player. Prints the URL (with a token, as Jupyter does) as its first line; "
            f"Ctrl-C stops it. Needs the 'playground' extra: {INSTALL}."
        ),
        epilog="example: autograd-lite playground --port 0 --no-browser",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only; "
        "0.0.0.0 serves every network, with a warning)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port to listen on (default: {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open a browser (only print the URL)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=common.DEFAULT_OUT,
        help=f"where 'save model' writes (default: {common.DEFAULT_OUT})",
    )
    parser.set_defaults(func=cmd_playground)
