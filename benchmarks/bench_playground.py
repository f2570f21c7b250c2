"""Does drawing slow training? The playground's epochs/s with and without a page attached.

The playground of ``autograd-lite playground`` (the demo's spirals, 2-16-16-3,
Adam, compiled; 240 training points, 60 held out) runs in this process under
uvicorn, as the command runs it. Each round trains for ``--seconds`` with no
page open, then with a page open — headless Chromium on the page, receiving
frames over the WebSocket and drawing them with network.js — alternating which
comes first. Reported per mode: training epochs per second of wall clock, and
epochs per CPU-second of this process (training and the frames' building and
sending; the browser is another process), medians of the rounds with their
spread [min-max], the frames per second the page received, and the ratio
without/with measured side by side in each round. The issue's bounds: at least
10 frames a second, and training not slowed by drawing more than 2×.

On a shared machine the wall clock also counts the waits for a core (the
browser needs one too), the CPU time does not.

The command runs NumPy with one BLAS thread (``one_blas_thread``), and so does
this benchmark; ``--blas-threads`` leaves BLAS its threads, to see why.

Run: ``python benchmarks/bench_playground.py [--rounds N] [--seconds S]``.
Needs the playground extra, Chromium and chromedriver (``make browser``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from autograd_lite.cli.playground import bind, one_blas_thread  # noqa: E402

if "--blas-threads" not in sys.argv:
    one_blas_thread()  # as the command does, before NumPy loads

import uvicorn  # noqa: E402
from browser import chromium  # noqa: E402

from viz.playground.app import create_app, new_token  # noqa: E402
from viz.playground.state import Playground  # noqa: E402


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.1f} [{min(values):.1f}-{max(values):.1f}]"


def measure(playground: Playground, hub, seconds: float) -> tuple[float, float, float]:
    """(epochs/s of wall clock, epochs per CPU-second of this process, frames/s built)."""
    playground.reset()
    playground.play()
    time.sleep(0.5)  # the compiled step traced, the first frames out
    epoch, wall, cpu, frames = (
        playground.epoch,
        time.perf_counter(),
        time.process_time(),
        hub.frames,
    )
    time.sleep(seconds)
    epochs = playground.epoch - epoch
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    frames = hub.frames - frames
    playground.pause()
    return epochs / wall, epochs / cpu, frames / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each mode (default 5)")
    parser.add_argument("--seconds", type=float, default=3.0, help="training per measurement")
    parser.add_argument(
        "--blas-threads",
        action="store_true",
        help="leave BLAS its threads (the command sets one; this shows why)",
    )
    args = parser.parse_args()
    from browser import browser_missing

    missing = browser_missing()
    if missing:
        print(f"bench_playground: skipped: {missing}")
        return

    with tempfile.TemporaryDirectory() as out:
        playground = Playground(out)
        token = new_token()
        app = create_app(playground, token)
        hub = app.app.state.hub
        listener = bind("127.0.0.1", 0)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/?token={token}"
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        thread = threading.Thread(target=lambda: asyncio.run(server.serve([listener])))
        thread.start()
        results = {"no page": [], "page": []}
        ratios, cpu_ratios = [], []
        try:
            with chromium() as driver:
                for r in range(args.rounds):
                    order = ["no page", "page"] if r % 2 == 0 else ["page", "no page"]
                    got = {}
                    for mode in order:
                        if mode == "page":
                            driver.get(url)
                            while not driver.execute_script(
                                "var r = document.querySelector('[data-ready]'); return !!r;"
                            ):
                                time.sleep(0.05)
                        got[mode] = measure(playground, hub, args.seconds)
                        if mode == "page":
                            driver.get("about:blank")  # the page closes its socket
                            time.sleep(0.3)
                        results[mode].append(got[mode])
                    ratios.append(got["no page"][0] / got["page"][0])
                    cpu_ratios.append(got["no page"][1] / got["page"][1])
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            playground.close()

    blas = "BLAS's own threads" if args.blas_threads else "one BLAS thread"
    print(
        f"playground, spirals 2-16-16-3, compiled, {blas}: {args.rounds} alternating rounds "
        f"of {args.seconds:g} s; medians [min-max]"
    )
    print(f"{'':10}{'epochs/s (wall)':>24}{'epochs/CPU-s':>24}{'frames/s':>24}")
    for mode, rows in results.items():
        wall, cpu, fps = ([row[i] for row in rows] for i in range(3))
        print(f"{mode:10}{spread(wall):>24}{spread(cpu):>24}{spread(fps):>24}")
    print(
        "slowdown with a page, side by side per round: "
        f"wall {spread(ratios).strip()}×, CPU {spread(cpu_ratios).strip()}×"
    )


if __name__ == "__main__":
    main()
